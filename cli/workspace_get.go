package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "get ID",
		Aliases:           []string{"show"},
		Short:             "Show a workspace",
		Args:              args("ID"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: argv[0]})
			if err != nil {
				return err
			}
			return a.show(workspaceView(resp.GetWorkspace()))
		},
	}
}
