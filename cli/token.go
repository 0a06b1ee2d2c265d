package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenCmd() *cobra.Command {
	c := group("token", "Create, list, copy, change, roll, revoke and check workspace tokens",
		a.tokenCreateCmd(),
		a.tokenListCmd(),
		a.tokenShowCmd(),
		a.tokenCopyCmd(),
		a.tokenUpdateCmd(),
		a.tokenDisableCmd(true),
		a.tokenDisableCmd(false),
		a.tokenRollCmd(),
		a.tokenRevokeCmd(),
		a.tokenRevokeAllCmd(),
		a.tokenReportLeakedCmd(),
		a.tokenCheckCmd(),
		a.tokenInfoCmd(),
		a.tokenRefreshCmd(),
		a.tokenPickCmd(),
		a.tokenPollersCmd(),
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
		ends, byPolicy := tokenEnd(tok)
		if byPolicy {
			t.field("Expires", t.time(ends, "never")+", by the workspace's token policy")
			t.field("Own expiry", t.time(tok.GetExpireTime(), "none"))
		} else {
			t.field("Expires", t.time(ends, "never"))
		}
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
		if ops := tok.GetOperations(); len(ops) > 0 {
			names := make([]string, len(ops))
			for i, op := range ops {
				names[i] = strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(op.String(), "OPERATION_")), "_", "-")
			}
			t.field("Operations", strings.Join(names, ", "))
		}
		if zoos := tok.GetZoos(); len(zoos) > 0 {
			t.field("Zoos", strings.Join(zoos, ", "))
		}
		if tok.GetCreatedForSeed() {
			t.field("Created for", "a seed (the hub SDK's token create link): the program that polled the seed received the secret")
		}
		if tok.GetReplaces() != "" {
			t.field("Replaces", tok.GetReplaces())
		}
		if tok.GetReplacedBy() != "" {
			t.field("Replaced by", tok.GetReplacedBy())
		}
	}}
}

// tokenListTable is the people's list of tokens. An end set by the
// workspace's token policy is marked [policy], a token created for a seed
// [seed].
func tokenListTable(toks []*pb.Token) func(*table) {
	return func(t *table) {
		t.row("TOKEN", "KEY", "DESCRIPTION", "USER", "CREATED", "EXPIRES", "STATE")
		for _, tok := range toks {
			ends, byPolicy := tokenEnd(tok)
			expires := t.date(ends, "never")
			if byPolicy {
				expires += " [policy]"
			}
			desc := tok.GetDescription()
			if tok.GetCreatedForSeed() {
				desc = strings.TrimSpace(desc + " [seed]")
			}
			t.row(tok.GetTokenId(), tok.GetMaskedKey(), desc, tok.GetUserId(),
				t.date(tok.GetCreateTime(), "-"), expires, stateName(tok.GetState()))
		}
	}
}

// end is the end that applies to tok (see tokenEnd).
func end(tok *pb.Token) *timestamppb.Timestamp {
	e, _ := tokenEnd(tok)
	return e
}

// tokenEnd is the end that applies to tok (effective_expire_time, or its
// own expiry from a server that does not send one) and whether the
// workspace's token policy set it: the token has no expiry of its own, or
// the policy ends it sooner.
func tokenEnd(tok *pb.Token) (end *timestamppb.Timestamp, byPolicy bool) {
	eff, own := tok.GetEffectiveExpireTime(), tok.GetExpireTime()
	if eff == nil {
		return own, false
	}
	return eff, own == nil || eff.AsTime().Before(own.AsTime())
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
