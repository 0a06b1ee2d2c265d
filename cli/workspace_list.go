package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List workspaces",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			all, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Workspace, string, error) {
				resp, err := client.ListWorkspaces(ctx, &pb.ListWorkspacesRequest{PageSize: pageSize, PageToken: page})
				return resp.GetWorkspaces(), resp.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			names := make([]string, len(all))
			for i, w := range all {
				names[i] = w.GetWorkspaceId()
			}
			return a.show(view{msg: &pb.ListWorkspacesResponse{Workspaces: all}, table: workspaceListTable(all), names: names})
		},
	}
}

// workspaceListTable is a list even of one workspace.
func workspaceListTable(ws []*pb.Workspace) func(*table) {
	return func(t *table) {
		t.row("WORKSPACE", "NAME", "CREATED")
		for _, w := range ws {
			t.row(w.GetWorkspaceId(), w.GetDisplayName(), t.date(w.GetCreateTime(), "-"))
		}
	}
}
