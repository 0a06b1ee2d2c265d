package server_test

import (
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// refresh refreshes secret through the SDK endpoint and returns the new one.
func (e *env) refresh(t *testing.T, secret string) string {
	t.Helper()
	resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	return resp.GetValue()
}

// allTokens lists every token of ws, revoked ones too.
func (e *env) allTokens(t *testing.T, ws string) []*pb.Token {
	t.Helper()
	resp, err := e.tokens.ListTokens(admin(t), &pb.ListTokensRequest{WorkspaceId: ws, ShowRevoked: true, PageSize: 1000})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	return resp.GetTokens()
}

// TestRevokeRevokesRefreshedSuccessors: refresh S1 -> S2 -> S3 -> S4 and
// revoke S1 by its id: every one of them stops.
func TestRevokeRevokesRefreshedSuccessors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	first, s1 := e.token(t, "acme", "alice", nil)
	secrets := []string{s1}
	for range 3 {
		secrets = append(secrets, e.refresh(t, secrets[len(secrets)-1]))
	}
	if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: first.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	for i, s := range secrets {
		if v := e.validate(t, s); v.GetReason() != pb.Reason_REASON_REVOKED || v.GetToken().GetFamilyId() != first.GetTokenId() {
			t.Errorf("S%d after revoking S1: %v; want REVOKED, family %s", i+1, v, first.GetTokenId())
		}
	}
}

// TestRefreshKeepsOnePredecessorInGrace: however many refreshes, at most
// two tokens of a family work at once: the newest and its predecessor.
func TestRefreshKeepsOnePredecessorInGrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	_, secret := e.token(t, "acme", "alice", nil)
	secrets := []string{secret}
	for range 200 {
		secrets = append(secrets, e.refresh(t, secrets[len(secrets)-1]))
	}
	valid := 0
	for _, s := range secrets {
		if e.validate(t, s).GetValid() {
			valid++
		}
	}
	if valid != 2 {
		t.Errorf("%d of %d secrets of one family are valid; want 2 (the newest and its predecessor in grace)", valid, len(secrets))
	}
	if v := e.validate(t, secrets[len(secrets)-2]); !v.GetValid() {
		t.Errorf("the newest token's predecessor: %v; want valid in its grace period", v)
	}
}

// TestParallelRefreshesOfOneSecret: many clients refresh the same secret at
// once. Exactly one gets a new token; the others are refused, and their
// attempt revokes the whole family, the winner's new token included.
func TestParallelRefreshesOfOneSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	_, secret := e.token(t, "acme", "alice", nil)
	const clients = 16
	var wg sync.WaitGroup
	results := make([]string, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() {
			resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
			results[i], errs[i] = resp.GetValue(), err
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch c := status.Code(err); c {
		case codes.OK:
			ok++
		case codes.FailedPrecondition, codes.Unauthenticated:
		default:
			t.Errorf("client %d: %v; want OK, FailedPrecondition or Unauthenticated", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d refreshes of one secret succeeded, want exactly 1", ok)
	}
	for _, s := range append(results, secret) {
		if s != "" && e.validate(t, s).GetValid() {
			t.Errorf("a secret of the reused family is still valid")
		}
	}
	for _, tok := range e.allTokens(t, "acme") {
		if tok.GetState() != pb.TokenState_TOKEN_STATE_REVOKED {
			t.Errorf("token %s after reuse = %v, want REVOKED", tok.GetTokenId(), tok.GetState())
		}
	}
}

// TestParallelRefreshAndRevoke: in several families at once, one client
// keeps refreshing the newest secret while another revokes the first
// token. Whatever the interleaving, no token descended from the revoked
// one works afterwards.
func TestParallelRefreshAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	const families, refreshes = 8, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var secrets []string
	for f := range families {
		first, secret := e.token(t, "acme", "alice", nil)
		mu.Lock()
		secrets = append(secrets, secret)
		mu.Unlock()
		progress := make(chan struct{}, refreshes)
		wg.Go(func() {
			defer close(progress)
			s := secret
			for range refreshes {
				resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: s})
				if err != nil {
					if c := status.Code(err); c != codes.Unauthenticated && c != codes.FailedPrecondition {
						t.Errorf("family %d: refresh: %v", f, err)
					}
					return
				}
				s = resp.GetValue()
				mu.Lock()
				secrets = append(secrets, s)
				mu.Unlock()
				progress <- struct{}{}
			}
		})
		wg.Go(func() {
			// Revoke after a different number of refreshes in each family,
			// while the refresher carries on.
			for range 2 * f {
				if _, ok := <-progress; !ok {
					break
				}
			}
			if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: first.GetTokenId()}); err != nil {
				t.Errorf("family %d: revoke: %v", f, err)
			}
		})
	}
	wg.Wait()
	for _, s := range secrets {
		if v := e.validate(t, s); v.GetValid() {
			t.Errorf("token %s of a revoked family is still valid", v.GetToken().GetTokenId())
		}
	}
	tokens := e.allTokens(t, "acme")
	for _, tok := range tokens {
		if tok.GetState() != pb.TokenState_TOKEN_STATE_REVOKED {
			t.Errorf("token %s = %v, want REVOKED", tok.GetTokenId(), tok.GetState())
		}
	}
	t.Logf("%d tokens in %d families, all revoked", len(tokens), families)
}

// TestDisableOriginalDisablesDescendants: disabling the first token of a
// family disables the tokens that replaced it; enabling it restores them.
func TestDisableOriginalDisablesDescendants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	first, s1 := e.token(t, "acme", "alice", nil)
	s2 := e.refresh(t, s1)
	for _, disabled := range []bool{true, false} {
		if _, err := e.tokens.UpdateToken(admin(t), &pb.UpdateTokenRequest{
			Token: &pb.Token{WorkspaceId: "acme", TokenId: first.GetTokenId(), Disabled: disabled}, UpdateMask: mask("disabled"),
		}); err != nil {
			t.Fatalf("UpdateToken(disabled=%v): %v", disabled, err)
		}
		want := pb.Reason_REASON_VALID
		if disabled {
			want = pb.Reason_REASON_DISABLED
		}
		if v := e.validate(t, s2); v.GetReason() != want {
			t.Errorf("successor after disabled=%v on the original: %v; want %v", disabled, v, want)
		}
	}
}

// TestRemoveMemberRevokesFamilies: removing the member stops every token of
// their families, those in grace too.
func TestRemoveMemberRevokesFamilies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	_, s1 := e.token(t, "acme", "alice", nil)
	s2 := e.refresh(t, s1)
	if _, err := e.workspaces.RemoveMember(admin(t), &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{s1, s2} {
		if v := e.validate(t, s); v.GetReason() != pb.Reason_REASON_REVOKED || v.GetToken().GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED {
			t.Errorf("token after removing its member: %v; want REVOKED for MEMBER_REMOVED", v)
		}
	}
}
