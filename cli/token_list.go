package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenListCmd() *cobra.Command {
	var ws, user, within string
	var all bool
	var states []string
	c := &cobra.Command{
		Use:     "list --workspace WS [--user USER] [--all] [--state STATE]... [--expiring-within 7d]",
		Aliases: []string{"ls"},
		Short:   "List the tokens of a workspace (masked)",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := &pb.ListTokensRequest{WorkspaceId: ws, PageSize: pageSize, ShowRevoked: all}
			for _, st := range states {
				v, ok := pb.TokenState_value["TOKEN_STATE_"+strings.ToUpper(st)]
				if !ok || v == 0 {
					return usageError(fmt.Sprintf("--state %q: want active, expired, revoked or disabled", st))
				}
				req.States = append(req.States, pb.TokenState(v))
			}
			if within != "" {
				d, ok := parseDays(within)
				if !ok {
					var err error
					if d, err = time.ParseDuration(within); err != nil || d <= 0 {
						return usageError(fmt.Sprintf("--expiring-within %q: want a duration such as 7d, 2w or 12h", within))
					}
				}
				req.ExpireBefore = timestamppb.New(a.env.Now().Add(d))
			}
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			toks, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Token, string, error) {
				req.PageToken = page
				r, err := client.ListTokens(ctx, req)
				return r.GetTokens(), r.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			if user != "" {
				mine := toks[:0]
				for _, t := range toks {
					if t.GetUserId() == user {
						mine = append(mine, t)
					}
				}
				toks = mine
			}
			names := make([]string, len(toks))
			for i, t := range toks {
				names[i] = t.GetTokenId()
			}
			return a.show(view{msg: &pb.ListTokensResponse{Tokens: toks}, names: names, table: tokenListTable(toks)})
		},
	}
	a.addWorkspaceFlag(c, &ws)
	c.Flags().StringVarP(&user, "user", "u", "", "only the tokens of this member")
	c.Flags().BoolVar(&all, "all", false, "include revoked tokens")
	c.Flags().StringSliceVar(&states, "state", nil, "only tokens in this state: active, expired, revoked or disabled (repeatable; revoked needs no --all)")
	c.Flags().StringVar(&within, "expiring-within", "", "only tokens that end within this time from now, such as 7d, by their own expiry or the workspace's token policy, soonest first (tokens that never end are left out)")
	return c
}
