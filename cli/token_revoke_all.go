package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenRevokeAllCmd() *cobra.Command {
	var ws, user string
	var yes bool
	c := &cobra.Command{
		Use:   "revoke-all --workspace WS (--user USER | TOKEN_ID...) [--yes]",
		Short: "Revoke all of a member's tokens, or the listed ones (at most 1000), in one step",
		Long: "Revokes every token of --user in the workspace, or the token ids given, in one commit, and\n" +
			"lists the tokens it revoked (already revoked ones are not listed). An id that is not a token of\n" +
			"the workspace revokes nothing.",
		Args: func(cmd *cobra.Command, ids []string) error {
			if (user == "") == (len(ids) == 0) {
				return usageError("give either --user or token ids, not both (see --help)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, ids []string) error {
			client, err := a.tokens()
			if err != nil {
				return err
			}
			what := fmt.Sprintf("all tokens of %s in %s", user, ws)
			if user == "" {
				what = fmt.Sprintf("%d token(s) in %s", len(ids), ws)
			}
			if err := a.confirm(cmd.Context(), "Revoke "+what+"? They stop working immediately.", yes); err != nil {
				return err
			}
			var resp *pb.RevokeTokensResponse
			err = a.call(cmd, func(ctx context.Context) error {
				resp, err = client.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: ws, UserId: user, TokenIds: ids})
				return err
			})
			if err != nil {
				return err
			}
			toks := resp.GetTokens()
			names := make([]string, len(toks))
			for i, t := range toks {
				names[i] = t.GetTokenId()
			}
			return a.show(view{msg: resp, names: names, table: func(t *table) {
				t.rows = append(t.rows, []string{fmt.Sprintf("Revoked %d token(s).", len(toks))})
				if len(toks) > 0 {
					tokenListTable(toks)(t)
				}
			}})
		},
	}
	a.addWorkspaceFlag(c, &ws)
	c.Flags().StringVarP(&user, "user", "u", "", "revoke every token of this user in the workspace")
	addYesFlag(c, &yes)
	return c
}
