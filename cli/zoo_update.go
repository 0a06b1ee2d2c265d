package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooUpdateCmd() *cobra.Command {
	var visibility string
	c := &cobra.Command{
		Use:               "update WS/ZOO --visibility public|private",
		Short:             "Change the visibility of a model zoo",
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
			resp, err := client.UpdateZoo(ctx, &pb.UpdateZooRequest{WorkspaceId: ws, ZooId: zoo, Visibility: vis})
			if err != nil {
				return err
			}
			return a.show(zooView(resp.GetZoo()))
		},
	}
	c.Flags().StringVar(&visibility, "visibility", "", "public or private")
	_ = c.MarkFlagRequired("visibility")
	_ = c.RegisterFlagCompletionFunc("visibility", cobra.FixedCompletions([]string{"public", "private"}, noFiles))
	return c
}
