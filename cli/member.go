package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) memberCmd() *cobra.Command {
	c := group("member", "Add, list and remove the members of a workspace",
		a.memberAddCmd(),
		a.memberListCmd(),
		a.memberGetCmd(),
		a.memberRemoveCmd(),
	)
	c.Aliases = []string{"members"}
	return c
}

// memberView shows one member.
func memberView(m *pb.Member) view {
	return view{msg: m, names: []string{m.GetUserId()}, table: func(t *table) {
		t.field("Workspace", m.GetWorkspaceId())
		t.field("User", m.GetUserId())
		t.field("Added", t.time(m.GetCreateTime(), "-"))
	}}
}

func (a *app) memberAddCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "add WS USER",
		Short: "Add a user to a workspace",
		Args:  args("WS", "USER"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: argv[0], UserId: argv[1]})
			if err != nil {
				return err
			}
			return a.show(memberView(resp.GetMember()))
		},
	}
}

func (a *app) memberGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "get WS USER",
		Aliases: []string{"show"},
		Short:   "Show a member of a workspace",
		Args:    args("WS", "USER"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetMember(ctx, &pb.GetMemberRequest{WorkspaceId: argv[0], UserId: argv[1]})
			if err != nil {
				return err
			}
			return a.show(memberView(resp.GetMember()))
		},
	}
}

func (a *app) memberListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list WS",
		Aliases: []string{"ls"},
		Short:   "List the members of a workspace",
		Args:    args("WS"),
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

func (a *app) memberRemoveCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "remove WS USER [--yes]",
		Short: "Remove a user from a workspace, revoking their tokens there",
		Args:  args("WS", "USER"),
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
