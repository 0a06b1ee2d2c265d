package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) memberGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "get WS USER",
		Aliases:           []string{"show"},
		Short:             "Show a member of a workspace",
		Args:              args("WS", "USER"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetMember(ctx, &pb.GetMemberRequest{WorkspaceId: argv[0], UserId: argv[1]})
			if err != nil {
				return err
			}
			return a.show(memberView(resp.GetMember()))
		},
	}
}
