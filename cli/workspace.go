package cli

import (
	"strconv"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceCmd() *cobra.Command {
	c := group("workspace", "Create, list, show, change and delete workspaces",
		a.workspaceCreateCmd(),
		a.workspaceListCmd(),
		a.workspaceGetCmd(),
		a.workspaceUpdateCmd(),
		a.workspaceDeleteCmd(),
	)
	c.Aliases = []string{"workspaces", "ws"}
	return c
}

// workspaceView shows one workspace.
func workspaceView(w *pb.Workspace) view {
	return view{msg: w, names: []string{w.GetWorkspaceId()}, table: func(t *table) {
		t.field("Workspace", w.GetWorkspaceId())
		t.field("Name", w.GetDisplayName())
		t.field("Created", t.time(w.GetCreateTime(), "-"))
		if p := w.GetTokenPolicy(); p != nil {
			span := func(d *durationpb.Duration) string {
				if d == nil {
					return "none"
				}
				return d.AsDuration().String()
			}
			t.field("Max lifetime", span(p.GetMaxLifetime()))
			t.field("Default lifetime", span(p.GetDefaultLifetime()))
			t.field("Require expiry", strconv.FormatBool(p.GetRequireExpiry()))
			t.field("Max family lifetime", span(p.GetMaxFamilyLifetime()))
		}
	}}
}
