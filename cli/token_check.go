package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "check [TOKEN | -]",
		Aliases: []string{"validate"},
		Short:   "Check whether a token is valid (exit 0) or not (exit 7, with the reason)",
		Long: `Check whether a token is valid. Exit code 0 means valid; 7 means not valid,
and the reason is printed.

The token is read from the argument, from stdin when the argument is "-", or
from TOKENAUTHORITY_TOKEN when there is no argument. An argument is visible in
ps and shell history; prefer the other two.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, argv []string) error {
			secret, err := a.readToken(firstArg(argv), true)
			if err != nil {
				return err
			}
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret})
			if err != nil {
				return err
			}
			tok := resp.GetToken()
			if err := a.show(view{msg: resp, names: []string{tok.GetTokenId()}, table: func(t *table) {
				if !resp.GetValid() {
					return
				}
				t.field("Valid", "yes")
				t.field("Token", tok.GetTokenId())
				t.field("Key", tok.GetMaskedKey())
				t.field("Workspace", tok.GetWorkspaceId())
				t.field("User", tok.GetUserId())
				t.field("Description", tok.GetDescription())
				t.field("Expires", t.time(end(tok), "never"))
			}}); err != nil {
				return err
			}
			if !resp.GetValid() {
				return &exitError{code: ExitTokenInvalid, msg: "token is not valid: " + explain(resp.GetReason())}
			}
			return nil
		},
	}
}

func firstArg(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	return argv[0]
}
