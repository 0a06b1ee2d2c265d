package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/token"
)

func tokenIDs(toks []*pb.Token) []string {
	var out []string
	for _, t := range toks {
		out = append(out, t.GetTokenId())
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// revokeState reads a token's state and revoke reason.
func (e *env) revokeState(t *testing.T, ws, id string) (pb.TokenState, pb.RevokeReason) {
	t.Helper()
	got, err := e.tokens.GetToken(admin(t), &pb.GetTokenRequest{WorkspaceId: ws, TokenId: id})
	if err != nil {
		t.Fatalf("GetToken(%s) = %v", id, err)
	}
	return got.GetToken().GetState(), got.GetToken().GetRevokeReason()
}

func TestRevokeTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice", "bob"}, nil)
	e.workspace(t, "other", []string{"alice"}, nil)
	a1, _ := e.token(t, "acme", "alice", nil)
	a2, _ := e.token(t, "acme", "alice", nil)
	a3, _ := e.token(t, "acme", "alice", nil)
	b1, bSecret := e.token(t, "acme", "bob", nil)
	o1, _ := e.token(t, "other", "alice", nil)
	ctx := admin(t)
	if _, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: a3.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	if _, reason := e.revokeState(t, "acme", a3.GetTokenId()); reason != pb.RevokeReason_REVOKE_REASON_ADMIN {
		t.Errorf("RevokeToken by a service credential recorded %v; want REVOKE_REASON_ADMIN", reason)
	}

	// By user: the user's live tokens in this workspace only.
	resp, err := e.tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "alice"})
	if err != nil {
		t.Fatalf("RevokeTokens(user) = %v", err)
	}
	if diff := cmp.Diff(sorted(a1.GetTokenId(), a2.GetTokenId()), tokenIDs(resp.GetTokens())); diff != "" {
		t.Errorf("RevokeTokens(user) returned (-want +got):\n%s", diff)
	}
	for _, tok := range resp.GetTokens() {
		if tok.GetState() != pb.TokenState_TOKEN_STATE_REVOKED || tok.GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_ADMIN {
			t.Errorf("returned token %s is %v for %v; want revoked by an admin", tok.GetTokenId(), tok.GetState(), tok.GetRevokeReason())
		}
	}
	for ws, id := range map[string]string{"acme": b1.GetTokenId(), "other": o1.GetTokenId()} {
		if st, _ := e.revokeState(t, ws, id); st != pb.TokenState_TOKEN_STATE_ACTIVE {
			t.Errorf("token %s of another user or workspace is %v; want active", id, st)
		}
	}
	// Again: nothing left to revoke.
	resp, err = e.tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "alice"})
	if err != nil || len(resp.GetTokens()) != 0 {
		t.Errorf("second RevokeTokens(user) = %v, %v; want nothing revoked", resp, err)
	}

	// By ids: an unknown id (or one of another workspace) revokes nothing.
	unknown := strings.Repeat("0", token.IDLength)
	for _, bad := range [][]string{{b1.GetTokenId(), unknown}, {b1.GetTokenId(), o1.GetTokenId()}} {
		_, err := e.tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", TokenIds: bad})
		if status.Code(err) != codes.NotFound {
			t.Errorf("RevokeTokens(%v) = %v; want NotFound", bad, err)
		}
	}
	if st, _ := e.revokeState(t, "acme", b1.GetTokenId()); st != pb.TokenState_TOKEN_STATE_ACTIVE {
		t.Fatalf("a refused RevokeTokens revoked %s", b1.GetTokenId())
	}
	resp, err = e.tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", TokenIds: []string{b1.GetTokenId(), a1.GetTokenId(), b1.GetTokenId()}})
	if err != nil {
		t.Fatalf("RevokeTokens(ids) = %v", err)
	}
	if diff := cmp.Diff([]string{b1.GetTokenId()}, tokenIDs(resp.GetTokens())); diff != "" {
		t.Errorf("RevokeTokens(ids) returned (-want +got):\n%s", diff)
	}
	if v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: bSecret}); err != nil || v.GetReason() != pb.Reason_REASON_REVOKED {
		t.Errorf("ValidateToken of a batch-revoked token = %v, %v; want REASON_REVOKED", v, err)
	}

	// Removing a member records why.
	m, _ := e.token(t, "other", "alice", nil)
	if _, err := e.workspaces.RemoveMember(ctx, &pb.RemoveMemberRequest{WorkspaceId: "other", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, reason := e.revokeState(t, "other", m.GetTokenId()); reason != pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED {
		t.Errorf("token of a removed member revoked for %v; want REVOKE_REASON_MEMBER_REMOVED", reason)
	}
}

func TestRevokeTokensBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	tok, _ := e.token(t, "acme", "alice", nil)
	id := tok.GetTokenId()
	many := make([]string, 1001)
	for i := range many {
		many[i] = id
	}
	tests := []struct {
		name string
		req  *pb.RevokeTokensRequest
		want codes.Code
	}{
		{"neither user nor ids", &pb.RevokeTokensRequest{WorkspaceId: "acme"}, codes.InvalidArgument},
		{"both user and ids", &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "alice", TokenIds: []string{id}}, codes.InvalidArgument},
		{"over 1000 ids", &pb.RevokeTokensRequest{WorkspaceId: "acme", TokenIds: many}, codes.InvalidArgument},
		{"malformed id", &pb.RevokeTokensRequest{WorkspaceId: "acme", TokenIds: []string{id, "../x"}}, codes.InvalidArgument},
		{"malformed user", &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "Alice"}, codes.InvalidArgument},
		{"malformed workspace", &pb.RevokeTokensRequest{WorkspaceId: "", UserId: "alice"}, codes.InvalidArgument},
		{"missing workspace", &pb.RevokeTokensRequest{WorkspaceId: "nope", UserId: "alice"}, codes.NotFound},
		{"missing workspace by ids", &pb.RevokeTokensRequest{WorkspaceId: "nope", TokenIds: []string{id}}, codes.NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.tokens.RevokeTokens(admin(t), tc.req)
			if got := status.Code(err); got != tc.want {
				t.Errorf("RevokeTokens = %v; want %v", err, tc.want)
			}
		})
	}
	if _, err := e.tokens.RevokeTokens(validator(t), &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "alice"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("RevokeTokens with a validator credential = %v; want PermissionDenied", err)
	}
	if _, err := e.tokens.RevokeTokens(t.Context(), &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "alice"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("RevokeTokens without a credential = %v; want Unauthenticated", err)
	}
	if st, _ := e.revokeState(t, "acme", id); st != pb.TokenState_TOKEN_STATE_ACTIVE {
		t.Errorf("after refused requests the token is %v; want active", st)
	}
}

func TestReportLeakedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	e.workspace(t, "other", []string{"bob"}, nil)
	leaked, lSecret := e.token(t, "acme", "alice", nil)
	other, oSecret := e.token(t, "other", "bob", nil)
	kept, kSecret := e.token(t, "acme", "alice", nil)
	gone, gSecret := e.token(t, "acme", "alice", nil)
	if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: gone.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	unknown, err := token.New()
	if err != nil {
		t.Fatal(err)
	}

	// No credential needed. A report that matches nothing and one that
	// matches answer alike.
	answers := map[string]*pb.ReportLeakedTokensResponse{}
	for name, secrets := range map[string][]string{
		"none matches": {unknown, "not a token", "", strings.Repeat("x", 300)},
		"some match":   {lSecret, oSecret, gSecret, unknown, "tka_garbage"},
	} {
		resp, err := e.tokens.ReportLeakedTokens(t.Context(), &pb.ReportLeakedTokensRequest{Secrets: secrets})
		if err != nil {
			t.Fatalf("%s: ReportLeakedTokens = %v", name, err)
		}
		answers[name] = resp
	}
	// The answer comes before the lookup; wait for the revocations.
	wctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.srv.WaitLeakReports(wctx); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(answers["none matches"], answers["some match"]) {
		t.Errorf("answers differ: %v vs %v", answers["none matches"], answers["some match"])
	}
	for _, c := range []struct {
		ws     string
		tok    *pb.Token
		state  pb.TokenState
		reason pb.RevokeReason
	}{
		{"acme", leaked, pb.TokenState_TOKEN_STATE_REVOKED, pb.RevokeReason_REVOKE_REASON_LEAKED},
		{"other", other, pb.TokenState_TOKEN_STATE_REVOKED, pb.RevokeReason_REVOKE_REASON_LEAKED},
		{"acme", kept, pb.TokenState_TOKEN_STATE_ACTIVE, pb.RevokeReason_REVOKE_REASON_UNSPECIFIED},
		{"acme", gone, pb.TokenState_TOKEN_STATE_REVOKED, pb.RevokeReason_REVOKE_REASON_ADMIN}, // already revoked: untouched
	} {
		if st, reason := e.revokeState(t, c.ws, c.tok.GetTokenId()); st != c.state || reason != c.reason {
			t.Errorf("token %s is %v for %v; want %v for %v", c.tok.GetTokenId(), st, reason, c.state, c.reason)
		}
	}
	if v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: lSecret}); err != nil || v.GetReason() != pb.Reason_REASON_REVOKED {
		t.Errorf("ValidateToken of a reported token = %v, %v; want REASON_REVOKED", v, err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, leaked.GetTokenId()) || !strings.Contains(logs, "leaked") {
		t.Errorf("logs do not record the leaked token %s:\n%s", leaked.GetTokenId(), logs)
	}
	for _, s := range []string{lSecret, oSecret, gSecret, unknown, kSecret} {
		if strings.Contains(logs, s) || strings.Contains(logs, s[len(token.Prefix):len(token.Prefix)+12]) {
			t.Errorf("logs hold (part of) a reported secret %s", token.Mask(s))
		}
	}
}

func TestReportLeakedTokensBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	tok, secret := e.token(t, "acme", "alice", nil)
	over := make([]string, 1001)
	for i := range over {
		over[i] = secret
	}
	for name, secrets := range map[string][]string{"none": nil, "over 1000": over} {
		_, err := e.tokens.ReportLeakedTokens(t.Context(), &pb.ReportLeakedTokensRequest{Secrets: secrets})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: ReportLeakedTokens = %v; want InvalidArgument", name, err)
		}
		if msg := status.Convert(err).Message(); strings.Contains(msg, secret) {
			t.Errorf("%s: error message holds the secret", name)
		}
	}
	if st, _ := e.revokeState(t, "acme", tok.GetTokenId()); st != pb.TokenState_TOKEN_STATE_ACTIVE {
		t.Errorf("a refused report changed the token to %v", st)
	}
	// Exactly 1000 is accepted.
	if err := e.reportLeaked(t, t.Context(), over[:1000]...); err != nil {
		t.Errorf("1000 secrets: %v", err)
	}
	if st, reason := e.revokeState(t, "acme", tok.GetTokenId()); st != pb.TokenState_TOKEN_STATE_REVOKED || reason != pb.RevokeReason_REVOKE_REASON_LEAKED {
		t.Errorf("after a report of 1000 copies the token is %v for %v", st, reason)
	}
}
