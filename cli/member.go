package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) memberCmd() *cobra.Command {
	c := group("member", "Add, list and remove the members of a workspace",
		a.memberAddCmd(),
		a.memberListCmd(),
		a.memberGetCmd(),
		a.memberRemoveCmd(),
	)
	c.Aliases = []string{"members"}
	return c
}

// memberView shows one member.
func memberView(m *pb.Member) view {
	return view{msg: m, names: []string{m.GetUserId()}, table: func(t *table) {
		t.field("Workspace", m.GetWorkspaceId())
		t.field("User", m.GetUserId())
		t.field("Added", t.time(m.GetCreateTime(), "-"))
	}}
}
