package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceCreateCmd() *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "create ID [--name NAME]",
		Short: "Create a workspace",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: argv[0], DisplayName: name})
			if err != nil {
				return err
			}
			return a.show(workspaceView(resp.GetWorkspace()))
		},
	}
	c.Flags().StringVar(&name, "name", "", "display name, such as \"Acme Corp\"")
	return c
}
