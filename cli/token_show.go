package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenShowCmd() *cobra.Command {
	var ws string
	c := &cobra.Command{
		Use:     "show --workspace WS TOKEN_ID",
		Aliases: []string{"get"},
		Short:   "Show a token (masked)",
		Args:    args("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: ws, TokenId: argv[0]})
			if err != nil {
				return err
			}
			return a.show(tokenView(resp.GetToken()))
		},
	}
	a.addWorkspaceFlag(c, &ws)
	return c
}
