package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenListCmd() *cobra.Command {
	var ws, user string
	var all bool
	c := &cobra.Command{
		Use:     "list --workspace WS [--user USER] [--all]",
		Aliases: []string{"ls"},
		Short:   "List the tokens of a workspace (masked)",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			toks, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Token, string, error) {
				r, err := client.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: ws, PageSize: pageSize, PageToken: page, ShowRevoked: all})
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
	return c
}
