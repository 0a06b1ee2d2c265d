package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) memberListCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "list WS",
		Aliases:           []string{"ls"},
		Short:             "List the members of a workspace",
		Args:              args("WS"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			all, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Member, string, error) {
				r, err := client.ListMembers(ctx, &pb.ListMembersRequest{WorkspaceId: argv[0], PageSize: pageSize, PageToken: page})
				return r.GetMembers(), r.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			names := make([]string, len(all))
			for i, m := range all {
				names[i] = m.GetUserId()
			}
			return a.show(view{msg: &pb.ListMembersResponse{Members: all}, names: names, table: func(t *table) {
				t.row("USER", "ADDED")
				for _, m := range all {
					t.row(m.GetUserId(), t.date(m.GetCreateTime(), "-"))
				}
			}})
		},
	}
}
