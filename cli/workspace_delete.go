package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceDeleteCmd() *cobra.Command {
	var yes, force bool
	c := &cobra.Command{
		Use:   "delete ID [--force] [--yes]",
		Short: "Delete a workspace (with --force, also its members, zoos and tokens)",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			id := argv[0]
			ws, err := client.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: id})
			if err != nil {
				return err
			}
			question := fmt.Sprintf("Delete workspace %s %q?", id, ws.GetWorkspace().GetDisplayName())
			if force {
				lost, err := a.workspaceContents(ctx, id)
				if err != nil {
					return err
				}
				question = fmt.Sprintf("Delete workspace %s %q with %s? Its tokens stop working immediately.", id, ws.GetWorkspace().GetDisplayName(), lost)
			}
			if err := a.confirm(question, yes); err != nil {
				return err
			}
			// A fresh timeout: the prompt may have taken a while.
			ctx, cancel = a.ctx(cmd)
			defer cancel()
			if _, err := client.DeleteWorkspace(ctx, &pb.DeleteWorkspaceRequest{WorkspaceId: id, Force: force}); err != nil {
				return err
			}
			return a.done(&pb.DeleteWorkspaceResponse{}, "Deleted workspace "+id, id)
		},
	}
	c.Flags().BoolVar(&force, "force", false, "also delete the workspace's members, zoos and tokens (its tokens stop working)")
	addYesFlag(c, &yes)
	return c
}

// workspaceContents counts what a forced delete loses: "2 members, 1 zoo
// and 3 active tokens".
func (a *app) workspaceContents(ctx context.Context, id string) (string, error) {
	ws, err := a.workspaces()
	if err != nil {
		return "", err
	}
	toks, err := a.tokens()
	if err != nil {
		return "", err
	}
	members, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Member, string, error) {
		r, err := ws.ListMembers(ctx, &pb.ListMembersRequest{WorkspaceId: id, PageSize: pageSize, PageToken: page})
		return r.GetMembers(), r.GetNextPageToken(), err
	})
	if err != nil {
		return "", err
	}
	zoos, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Zoo, string, error) {
		r, err := ws.ListZoos(ctx, &pb.ListZoosRequest{WorkspaceId: id, PageSize: pageSize, PageToken: page})
		return r.GetZoos(), r.GetNextPageToken(), err
	})
	if err != nil {
		return "", err
	}
	tokens, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Token, string, error) {
		r, err := toks.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: id, PageSize: pageSize, PageToken: page})
		return r.GetTokens(), r.GetNextPageToken(), err
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %s and %s", plural(len(members), "member"), plural(len(zoos), "zoo"), plural(len(tokens), "token")), nil
}
