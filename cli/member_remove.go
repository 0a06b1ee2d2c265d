package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) memberRemoveCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:               "remove WS USER [--yes]",
		Short:             "Remove a user from a workspace, revoking their tokens there",
		Args:              args("WS", "USER"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ws, user := argv[0], argv[1]
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			if _, err := client.GetMember(ctx, &pb.GetMemberRequest{WorkspaceId: ws, UserId: user}); err != nil {
				return err
			}
			active, err := a.activeTokensOf(ctx, ws, user)
			if err != nil {
				return err
			}
			verb := "are"
			if active == 1 {
				verb = "is"
			}
			question := fmt.Sprintf("Remove %s from %s? Their %s in %s %s revoked immediately.", user, ws, plural(active, "active token"), ws, verb)
			if err := a.confirm(cmd.Context(), question, yes); err != nil {
				return err
			}
			// A fresh timeout: the prompt may have taken a while.
			ctx, cancel = a.ctx(cmd)
			defer cancel()
			resp, err := client.RemoveMember(ctx, &pb.RemoveMemberRequest{WorkspaceId: ws, UserId: user})
			if err != nil {
				return err
			}
			return a.done(resp, fmt.Sprintf("Removed %s from %s; revoked %s.", user, ws, plural(int(resp.GetRevokedTokenCount()), "token")), user)
		},
	}
	addYesFlag(c, &yes)
	return c
}

// activeTokensOf counts the tokens of user in ws that still work.
func (a *app) activeTokensOf(ctx context.Context, ws, user string) (int, error) {
	client, err := a.tokens()
	if err != nil {
		return 0, err
	}
	all, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Token, string, error) {
		r, err := client.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: ws, PageSize: pageSize, PageToken: page})
		return r.GetTokens(), r.GetNextPageToken(), err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range all {
		if t.GetUserId() == user && t.GetState() == pb.TokenState_TOKEN_STATE_ACTIVE {
			n++
		}
	}
	return n, nil
}
