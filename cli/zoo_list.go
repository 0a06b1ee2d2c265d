package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooListCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "list WS",
		Aliases:           []string{"ls"},
		Short:             "List the model zoos of a workspace",
		Args:              args("WS"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			all, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Zoo, string, error) {
				r, err := client.ListZoos(ctx, &pb.ListZoosRequest{WorkspaceId: argv[0], PageSize: pageSize, PageToken: page})
				return r.GetZoos(), r.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			names := make([]string, len(all))
			for i, z := range all {
				names[i] = z.GetWorkspaceId() + "/" + z.GetZooId()
			}
			return a.show(view{msg: &pb.ListZoosResponse{Zoos: all}, names: names, table: func(t *table) {
				t.row("ZOO", "VISIBILITY", "CREATED")
				for i, z := range all {
					t.row(names[i], visibilityName(z.GetVisibility()), t.date(z.GetCreateTime(), "-"))
				}
			}})
		},
	}
}
