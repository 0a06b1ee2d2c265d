package cli

import (
	"strings"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenCmd() *cobra.Command {
	c := group("token", "Create, list, copy, revoke and check workspace tokens",
		a.tokenCreateCmd(),
		a.tokenListCmd(),
		a.tokenShowCmd(),
		a.tokenCopyCmd(),
		a.tokenRevokeCmd(),
		a.tokenRevokeAllCmd(),
		a.tokenReportLeakedCmd(),
		a.tokenCheckCmd(),
		a.tokenInfoCmd(),
		a.tokenRefreshCmd(),
		a.tokenPickCmd(),
	)
	c.Aliases = []string{"tokens"}
	return c
}

// addWorkspaceFlag gives a token command its required --workspace.
func (a *app) addWorkspaceFlag(cmd *cobra.Command, ws *string) {
	cmd.Flags().StringVarP(ws, "workspace", "w", "", "the workspace of the token")
	_ = cmd.MarkFlagRequired("workspace")
	_ = cmd.RegisterFlagCompletionFunc("workspace", a.completeWorkspaceFlag)
}

// tokenView shows one token, never its secret.
func tokenView(tok *pb.Token) view {
	return view{msg: tok, names: []string{tok.GetTokenId()}, table: func(t *table) {
		t.field("Token", tok.GetTokenId())
		t.field("Key", tok.GetMaskedKey())
		t.field("Workspace", tok.GetWorkspaceId())
		t.field("User", tok.GetUserId())
		t.field("Description", tok.GetDescription())
		t.field("Created", t.time(tok.GetCreateTime(), "-"))
		t.field("Expires", t.time(tok.GetExpireTime(), "never"))
		t.field("State", stateName(tok.GetState()))
		if tok.GetLastUsedTime() != nil {
			t.field("Last used", t.time(tok.GetLastUsedTime(), "-"))
		}
		if tok.GetRevokeTime() != nil {
			t.field("Revoked", t.time(tok.GetRevokeTime(), "-"))
		}
		if r := tok.GetRevokeReason(); r != pb.RevokeReason_REVOKE_REASON_UNSPECIFIED {
			// "admin", "user", "leaked", "member_removed", ...
			t.field("Why revoked", strings.ToLower(strings.TrimPrefix(r.String(), "REVOKE_REASON_")))
		}
		if tok.GetReplacedBy() != "" {
			t.field("Replaced by", tok.GetReplacedBy())
		}
	}}
}

// tokenListTable is the people's list of tokens.
func tokenListTable(toks []*pb.Token) func(*table) {
	return func(t *table) {
		t.row("TOKEN", "KEY", "DESCRIPTION", "USER", "CREATED", "EXPIRES", "STATE")
		for _, tok := range toks {
			t.row(tok.GetTokenId(), tok.GetMaskedKey(), tok.GetDescription(), tok.GetUserId(),
				t.date(tok.GetCreateTime(), "-"), t.date(tok.GetExpireTime(), "never"), stateName(tok.GetState()))
		}
	}
}

// stateName is "active" for TOKEN_STATE_ACTIVE.
func stateName(s pb.TokenState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TOKEN_STATE_"))
}

// describe names a token the way a person recognises it: "tka_...x9Qz
// 'laptop' of alice in acme".
func describe(tok *pb.Token) string {
	return tok.GetMaskedKey() + " " + quote(tok.GetDescription()) + " of " + tok.GetUserId() + " in " + tok.GetWorkspaceId()
}

func quote(s string) string { return "'" + printable(s) + "'" }
