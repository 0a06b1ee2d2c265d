package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/server"
)

// restJSON makes a REST call, with credential as its Bearer when not
// empty, and returns the status and the decoded JSON body.
func restJSON(t *testing.T, method, url, credential string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s answered %d %q: %v", method, url, resp.StatusCode, b, err)
	}
	return resp.StatusCode, m
}

// restRefresh calls the SDK's REST refresh.
func restRefresh(t *testing.T, base, secret string) (int, map[string]any) {
	t.Helper()
	return restJSON(t, http.MethodPatch, base+"/api/v1/tokens/"+secret+"/refresh", "")
}

// repeatStack starts a stack with a 30-second refresh reuse interval and
// returns it with one token of acme/alice.
func repeatStack(t *testing.T, reveal bool) (*teststack.Stack, *pb.Token, string) {
	t.Helper()
	s := teststack.Start(t, func(c *server.Config) {
		c.RefreshReuseInterval = 30 * time.Second
		c.Reveal = reveal
	})
	ctx := teststack.As(t.Context(), teststack.AdminSecret)
	if _, err := s.Workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme", DisplayName: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "sdk"})
	if err != nil {
		t.Fatal(err)
	}
	return s, resp.GetToken(), resp.GetSecret()
}

func validReason(t *testing.T, s *teststack.Stack, secret string) pb.Reason {
	t.Helper()
	v, err := s.Tokens.ValidateToken(teststack.As(t.Context(), teststack.ValidatorSecret), &pb.ValidateTokenRequest{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return v.GetReason()
}

// wantReasons checks the verdict on each named secret.
func wantReasons(t *testing.T, s *teststack.Stack, when string, secrets map[string]string, want pb.Reason) {
	t.Helper()
	for name, sec := range secrets {
		if r := validReason(t, s, sec); r != want {
			t.Errorf("%s token %s: %v; want %v", name, when, r, want)
		}
	}
}

// TestRefreshRepeatWithinInterval: an SDK that lost the answer of a
// refresh and retries it within --refresh-reuse-interval gets the same new
// token (over REST and gRPC, twice); once the interval is over, a repeat
// is a reuse and revokes the family, as before.
func TestRefreshRepeatWithinInterval(t *testing.T) {
	t.Parallel()
	s, first, secret := repeatStack(t, true)
	code, body := restRefresh(t, s.HTTPURL, secret)
	if code != http.StatusOK {
		t.Fatalf("refresh = %d %v", code, body)
	}
	fresh, _ := body["value"].(string)
	if fresh == "" || fresh == secret {
		t.Fatalf("refresh value = %v", body)
	}
	self := pb.NewSelfServiceClient(s.Conn)

	s.Clock.Advance(10 * time.Second)
	if code, body := restRefresh(t, s.HTTPURL, secret); code != http.StatusOK || body["value"] != fresh {
		t.Errorf("REST retry at +10s = %d, same token %v; want 200 with the same new token", code, body["value"] == fresh)
	}
	s.Clock.Advance(20*time.Second - time.Millisecond)
	resp, err := self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatalf("gRPC retry at +30s-1ms: %v", err)
	}
	if resp.GetValue() != fresh {
		t.Error("gRPC retry at +30s-1ms returned another token; want the same new token")
	}
	list, err := s.Tokens.ListTokens(teststack.As(t.Context(), teststack.AdminSecret), &pb.ListTokensRequest{WorkspaceId: "acme", ShowRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetTokens()); n != 2 {
		t.Errorf("%d tokens after one refresh and two retries; want 2", n)
	}
	events, err := pb.NewAuditServiceClient(s.Conn).ListAuditEvents(teststack.As(t.Context(), teststack.AdminSecret), &pb.ListAuditEventsRequest{Action: "token.refresh"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(events.GetEvents()); n != 3 {
		t.Errorf("%d token.refresh events; want 3 (the refresh and each retry)", n)
	}
	for _, ev := range events.GetEvents() {
		if ev.GetTarget() == first.GetTokenId() || ev.GetActor() != "token:"+first.GetTokenId() {
			t.Errorf("refresh event %v; want the new token as target, the old as actor", ev)
		}
		if ev.GetTarget() != events.GetEvents()[0].GetTarget() {
			t.Errorf("refresh events name different targets: %v", events.GetEvents())
		}
	}
	if r := validReason(t, s, fresh); r != pb.Reason_REASON_VALID {
		t.Errorf("new token after retries: %v", r)
	}

	s.Clock.Advance(time.Millisecond) // 30s after the refresh: the interval is over
	code, body = restRefresh(t, s.HTTPURL, secret)
	if detail, _ := body["detail"].(string); code != http.StatusBadRequest || !strings.Contains(detail, "family") {
		t.Errorf("refresh at +30s = %d %v; want 400 saying the family is revoked", code, body)
	}
	wantReasons(t, s, "after reuse", map[string]string{"old": secret, "new": fresh}, pb.Reason_REASON_REVOKED)
}

// TestRefreshRepeatHashesOnly: a server that keeps only hashes cannot send
// the new token again: the retry is refused without revoking anything.
func TestRefreshRepeatHashesOnly(t *testing.T) {
	t.Parallel()
	s, _, secret := repeatStack(t, false)
	self := pb.NewSelfServiceClient(s.Conn)
	resp, err := self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(time.Second)
	_, err = self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "hashes") {
		t.Fatalf("retry on a hashes-only server: %v; want FailedPrecondition explaining why", err)
	}
	wantReasons(t, s, "after a refused retry", map[string]string{"old (in grace)": secret, "new": resp.GetValue()}, pb.Reason_REASON_VALID)
}

// TestParallelRepeatsOfOneRefresh: with a reuse interval, many clients
// refreshing one secret at once all get the same new token, and the family
// lives: one refresh happened, the rest were repeats of it.
func TestParallelRepeatsOfOneRefresh(t *testing.T) {
	t.Parallel()
	s, _, secret := repeatStack(t, true)
	self := pb.NewSelfServiceClient(s.Conn)
	const clients = 16
	var wg sync.WaitGroup
	results := make([]string, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() {
			resp, err := self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
			results[i], errs[i] = resp.GetValue(), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		// The per-token refresh limit may refuse some; none may revoke.
		if c := status.Code(err); c != codes.OK && c != codes.ResourceExhausted {
			t.Errorf("client %d: %v; want OK or ResourceExhausted", i, err)
		}
	}
	var fresh string
	for _, r := range results {
		if r != "" && fresh == "" {
			fresh = r
		}
		if r != "" && r != fresh {
			t.Fatal("parallel refreshes of one secret returned different tokens")
		}
	}
	if fresh == "" || validReason(t, s, fresh) != pb.Reason_REASON_VALID {
		t.Errorf("the new token after parallel repeats is not valid")
	}
}
