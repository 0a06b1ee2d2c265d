package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooCreateCmd() *cobra.Command {
	var visibility string
	c := &cobra.Command{
		Use:               "create WS/ZOO --visibility public|private",
		Short:             "Create a model zoo",
		Args:              args("WS/ZOO"),
		ValidArgsFunction: a.completeZooArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ws, zoo, err := splitZoo(argv[0])
			if err != nil {
				return err
			}
			vis, err := parseVisibility(visibility)
			if err != nil {
				return err
			}
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: ws, ZooId: zoo, Visibility: vis})
			if err != nil {
				return err
			}
			return a.show(zooView(resp.GetZoo()))
		},
	}
	c.Flags().StringVar(&visibility, "visibility", "", "public (anyone may download) or private (only the workspace's tokens)")
	_ = c.MarkFlagRequired("visibility")
	_ = c.RegisterFlagCompletionFunc("visibility", cobra.FixedCompletions([]string{"public", "private"}, noFiles))
	return c
}
