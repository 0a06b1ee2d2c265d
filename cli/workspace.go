package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceCmd() *cobra.Command {
	c := group("workspace", "Create, list, show and delete workspaces",
		a.workspaceCreateCmd(),
		a.workspaceListCmd(),
		a.workspaceGetCmd(),
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
	}}
}
