package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "get WS/ZOO",
		Aliases:           []string{"show"},
		Short:             "Show a model zoo",
		Args:              args("WS/ZOO"),
		ValidArgsFunction: a.completeZooArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ws, zoo, err := splitZoo(argv[0])
			if err != nil {
				return err
			}
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetZoo(ctx, &pb.GetZooRequest{WorkspaceId: ws, ZooId: zoo})
			if err != nil {
				return err
			}
			return a.show(zooView(resp.GetZoo()))
		},
	}
}
