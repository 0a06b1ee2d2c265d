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
		Use:               "delete ID [--force] [--yes]",
		Short:             "Delete a workspace (with --force, also its members, zoos and tokens)",
		Args:              args("ID"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			id := argv[0]
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			var ws *pb.Workspace
			var in contents
			err = a.call(cmd, func(ctx context.Context) error {
				r, err := client.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: id})
				if err != nil {
					return err
				}
				ws = r.GetWorkspace()
				in, err = a.workspaceContents(ctx, id)
				return err
			})
			if err != nil {
				return err
			}
			// Refuse before asking: the server would refuse after.
			if !force && !in.empty() {
				return &exitError{code: ExitError, msg: fmt.Sprintf("workspace %s still has %s; pass --force to delete them too", id, in)}
			}
			question := fmt.Sprintf("Delete workspace %s %s?", id, quote(ws.GetDisplayName()))
			if !in.empty() {
				question = fmt.Sprintf("Delete workspace %s %s with %s? Its tokens stop working immediately.", id, quote(ws.GetDisplayName()), in)
			}
			if err := a.confirm(cmd.Context(), question, yes); err != nil {
				return err
			}
			var resp *pb.DeleteWorkspaceResponse
			err = a.call(cmd, func(ctx context.Context) error {
				resp, err = client.DeleteWorkspace(ctx, &pb.DeleteWorkspaceRequest{WorkspaceId: id, Force: force})
				return err
			})
			if err != nil {
				return err
			}
			return a.done(resp, "Deleted workspace "+id, id)
		},
	}
	c.Flags().BoolVar(&force, "force", false, "also delete the workspace's members, zoos and tokens (its tokens stop working)")
	addYesFlag(c, &yes)
	return c
}

// contents is what a workspace holds.
type contents struct {
	members, zoos, tokens, active int
}

func (c contents) empty() bool { return c.members == 0 && c.zoos == 0 && c.tokens == 0 }

// String is "2 members, 1 zoo and 3 tokens (1 active)".
func (c contents) String() string {
	return fmt.Sprintf("%s, %s and %s (%d active)", plural(c.members, "member"), plural(c.zoos, "zoo"), plural(c.tokens, "token"), c.active)
}

// workspaceContents counts what a forced delete loses.
func (a *app) workspaceContents(ctx context.Context, id string) (contents, error) {
	var c contents
	ws, err := a.workspaces()
	if err != nil {
		return c, err
	}
	toks, err := a.tokens()
	if err != nil {
		return c, err
	}
	members, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Member, string, error) {
		r, err := ws.ListMembers(ctx, &pb.ListMembersRequest{WorkspaceId: id, PageSize: pageSize, PageToken: page})
		return r.GetMembers(), r.GetNextPageToken(), err
	})
	if err != nil {
		return c, err
	}
	zoos, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Zoo, string, error) {
		r, err := ws.ListZoos(ctx, &pb.ListZoosRequest{WorkspaceId: id, PageSize: pageSize, PageToken: page})
		return r.GetZoos(), r.GetNextPageToken(), err
	})
	if err != nil {
		return c, err
	}
	tokens, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Token, string, error) {
		r, err := toks.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: id, PageSize: pageSize, PageToken: page, ShowRevoked: true})
		return r.GetTokens(), r.GetNextPageToken(), err
	})
	if err != nil {
		return c, err
	}
	c.members, c.zoos, c.tokens = len(members), len(zoos), len(tokens)
	for _, t := range tokens {
		if t.GetState() == pb.TokenState_TOKEN_STATE_ACTIVE {
			c.active++
		}
	}
	return c, nil
}
