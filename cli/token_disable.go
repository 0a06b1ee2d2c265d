package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// tokenDisableCmd is "token disable" (disabled true) or "token enable": one
// field of UpdateToken, so both live here.
func (a *app) tokenDisableCmd(disabled bool) *cobra.Command {
	var ws string
	c := &cobra.Command{
		Use:   "disable --workspace WS TOKEN_ID",
		Short: "Switch a token off without revoking it; the tokens its rolls made follow",
		Long: `Switch a token off: it is refused with REASON_DISABLED until "token enable"
switches it on again. Unlike revocation this can be undone. The tokens that
replaced it by roll or refresh are switched off and on with it.`,
		Args: args("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.updateToken(cmd, &pb.Token{WorkspaceId: ws, TokenId: argv[0], Disabled: disabled}, []string{"disabled"})
		},
	}
	if !disabled {
		c.Use = "enable --workspace WS TOKEN_ID"
		c.Short = "Switch a disabled token on again"
		c.Long = `Switch a token that "token disable" switched off on again, with the tokens
that replaced it. A revoked or expired token stays refused.`
	}
	a.addWorkspaceFlag(c, &ws)
	return c
}
