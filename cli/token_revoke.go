package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenRevokeCmd() *cobra.Command {
	var ws string
	var yes bool
	c := &cobra.Command{
		Use:   "revoke --workspace WS TOKEN_ID [--yes]",
		Short: "Revoke a token; it stops working immediately",
		Args:  args("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.tokens()
			if err != nil {
				return err
			}
			var tok *pb.Token
			err = a.call(cmd, func(ctx context.Context) error {
				r, err := client.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: ws, TokenId: argv[0]})
				tok = r.GetToken()
				return err
			})
			if err != nil {
				return err
			}
			if err := a.confirm(cmd.Context(), "Revoke token "+describe(tok)+"? It stops working immediately.", yes); err != nil {
				return err
			}
			var resp *pb.RevokeTokenResponse
			err = a.call(cmd, func(ctx context.Context) error {
				resp, err = client.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: ws, TokenId: argv[0]})
				return err
			})
			if err != nil {
				return err
			}
			v := tokenView(resp.GetToken())
			v.table = func(t *table) {
				t.rows = append(t.rows, []string{"Revoked token " + tok.GetTokenId() + " " + describe(tok) + "."})
			}
			return a.show(v)
		},
	}
	a.addWorkspaceFlag(c, &ws)
	addYesFlag(c, &yes)
	return c
}
