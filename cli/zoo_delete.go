package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooDeleteCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:               "delete WS/ZOO [--yes]",
		Short:             "Delete a model zoo",
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
			z, err := client.GetZoo(ctx, &pb.GetZooRequest{WorkspaceId: ws, ZooId: zoo})
			if err != nil {
				return err
			}
			question := fmt.Sprintf("Delete %s zoo %s? No token can download from it or run inference on it any more.", visibilityName(z.GetZoo().GetVisibility()), argv[0])
			if err := a.confirm(cmd.Context(), question, yes); err != nil {
				return err
			}
			// A fresh timeout: the prompt may have taken a while.
			ctx, cancel = a.ctx(cmd)
			defer cancel()
			resp, err := client.DeleteZoo(ctx, &pb.DeleteZooRequest{WorkspaceId: ws, ZooId: zoo})
			if err != nil {
				return err
			}
			return a.done(resp, "Deleted zoo "+argv[0], argv[0])
		},
	}
	addYesFlag(c, &yes)
	return c
}
