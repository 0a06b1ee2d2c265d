package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) memberAddCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "add WS USER",
		Short:             "Add a user to a workspace",
		Args:              args("WS", "USER"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: argv[0], UserId: argv[1]})
			if err != nil {
				return err
			}
			return a.show(memberView(resp.GetMember()))
		},
	}
}
