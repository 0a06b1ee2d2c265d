package daemon_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestLastUsedWrittenOnShutdown: a use still in memory at a graceful
// shutdown is on disk when the daemon starts again.
func TestLastUsedWrittenOnShutdown(t *testing.T) {
	t.Parallel()
	c := teststack.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	cfg := teststack.DaemonConfig(t)
	cfg.Now = c.Now
	d1 := teststack.RunDaemon(t, cfg)
	conn := d1.Conn()
	ctx := d1.AsAdmin(t.Context())
	ws, tokens := pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
	teststack.Members(t, ctx, ws, "acme", "alice")
	created, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	usedAt := c.Now()
	if v, err := tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: created.GetSecret()}); err != nil || !v.GetValid() {
		t.Fatalf("ValidateToken = %v, %v", v, err)
	}
	c.Advance(time.Second)
	if err := d1.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	conn = teststack.RunDaemon(t, cfg).Conn()
	got, err := pb.NewTokenServiceClient(conn).GetToken(d1.AsAdmin(t.Context()), &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: created.GetToken().GetTokenId()})
	if err != nil {
		t.Fatal(err)
	}
	if lu := got.GetToken().GetLastUsedTime(); lu == nil || !lu.AsTime().Equal(usedAt) {
		t.Errorf("last_used_time after restart = %v; want %v", lu, usedAt)
	}
}

// TestRetentionSweep: tokens revoked or expired longer than the retention
// ago are deleted by the sweep at start; younger ones stay listable.
func TestRetentionSweep(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := teststack.NewClock(t0)
	cfg := teststack.DaemonConfig(t)
	cfg.Now = c.Now
	d1 := teststack.RunDaemon(t, cfg)
	conn := d1.Conn()
	ctx := d1.AsAdmin(t.Context())
	ws, tokens := pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
	teststack.Members(t, ctx, ws, "acme", "alice")
	create := func(exp *timestamppb.Timestamp) string {
		t.Helper()
		c.Advance(time.Millisecond)
		resp, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", ExpireTime: exp})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetToken().GetTokenId()
	}
	revoke := func(id string) {
		t.Helper()
		if _, err := tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: id}); err != nil {
			t.Fatal(err)
		}
	}
	oldRevoked := create(nil)
	oldExpired := create(timestamppb.New(t0.Add(time.Hour)))
	recentRevoked := create(nil)
	live := create(nil)
	revoke(oldRevoked)
	c.Advance(10 * 24 * time.Hour)
	revoke(recentRevoked)
	listed := func(tokens pb.TokenServiceClient) []string {
		t.Helper()
		resp, err := tokens.ListTokens(d1.AsAdmin(t.Context()), &pb.ListTokensRequest{WorkspaceId: "acme", ShowRevoked: true})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tok := range resp.GetTokens() {
			ids = append(ids, tok.GetTokenId())
		}
		slices.Sort(ids)
		return ids
	}
	all := []string{oldRevoked, oldExpired, recentRevoked, live}
	slices.Sort(all)
	if got := listed(tokens); !slices.Equal(got, all) {
		t.Fatalf("before the retention ends show_revoked lists %v; want %v", got, all)
	}
	if err := d1.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	// 31 days after the first revocation and expiry; 21 after the other.
	c.Advance(21 * 24 * time.Hour)
	conn = teststack.RunDaemon(t, cfg).Conn()
	tokens = pb.NewTokenServiceClient(conn)
	want := []string{recentRevoked, live}
	slices.Sort(want)
	teststack.Eventually(t, 20*time.Second, func() error {
		if got := listed(tokens); !slices.Equal(got, want) {
			return fmt.Errorf("show_revoked lists %v; want %v", got, want)
		}
		return nil
	})
	if _, err := tokens.GetToken(d1.AsAdmin(t.Context()), &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: oldRevoked}); err == nil {
		t.Error("GetToken of a swept token succeeded")
	}
}

// TestRESTLifecycleOperations drives batch revocation, leak reports and
// filtered lists through the REST gateway of an in-process daemon.
func TestRESTLifecycleOperations(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	d := teststack.RunDaemon(t, cfg)
	admin := d.Admin
	call := func(method, path, body, auth string) (int, map[string]any) {
		t.Helper()
		return d.REST().As(auth).JSON(method, path, body)
	}
	mustOK := func(method, path, body string) map[string]any {
		t.Helper()
		code, m := call(method, path, body, admin)
		if code != 200 {
			t.Fatalf("%s %s = %d %v; want 200", method, path, code, m)
		}
		return m
	}
	mustOK("POST", "/v1/workspaces", `{"workspace_id":"acme"}`)
	mustOK("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`)
	mustOK("POST", "/v1/workspaces/acme/members", `{"user_id":"bob"}`)
	type tok struct{ id, secret string }
	create := func(user, body string) tok {
		m := mustOK("POST", "/v1/workspaces/acme/tokens", `{"user_id":"`+user+`"`+body+`}`)
		return tok{m["token"].(map[string]any)["token_id"].(string), m["secret"].(string)}
	}
	soon := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	a1, a2 := create("alice", ""), create("alice", `,"expire_time":"`+soon+`"`)
	b1, b2 := create("bob", ""), create("bob", "")
	l1 := create("bob", "")

	// Filtered list: states and expire_before as query parameters.
	week := time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
	m := mustOK("GET", "/v1/workspaces/acme/tokens?states=TOKEN_STATE_ACTIVE&expire_before="+week, "")
	if toks := m["tokens"].([]any); len(toks) != 1 || toks[0].(map[string]any)["token_id"] != a2.id {
		t.Errorf("tokens expiring within a week = %v; want only %s", toks, a2.id)
	}
	if code, m := call("GET", "/v1/workspaces/acme/tokens?states=TOKEN_STATE_BOGUS", "", admin); code != 400 || m["detail"] == "" {
		t.Errorf("unknown state = %d %v; want 400 with detail", code, m)
	}

	// Batch revocation.
	bad := []struct {
		body string
		want int
	}{
		{`{}`, 400},
		{`{"user_id":"alice","token_ids":["` + a1.id + `"]}`, 400},
		{`{"token_ids":["nope"]}`, 400},
		{`{"token_ids":["` + a1.id + `","` + strings.Repeat("0", 26) + `"]}`, 404},
	}
	for _, b := range bad {
		if code, m := call("POST", "/v1/workspaces/acme/tokens:batchRevoke", b.body, admin); code != b.want || m["detail"] == "" {
			t.Errorf("batchRevoke %s = %d %v; want %d with detail", b.body, code, m, b.want)
		}
	}
	if code, _ := call("POST", "/v1/workspaces/acme/tokens:batchRevoke", `{"user_id":"alice"}`, ""); code != 401 {
		t.Errorf("batchRevoke without a credential = %d; want 401", code)
	}
	m = mustOK("POST", "/v1/workspaces/acme/tokens:batchRevoke", `{"user_id":"alice"}`)
	if got := m["tokens"].([]any); len(got) != 2 {
		t.Errorf("batchRevoke by user returned %v; want 2 tokens", got)
	}
	m = mustOK("POST", "/v1/workspaces/acme/tokens:batchRevoke", fmt.Sprintf(`{"token_ids":[%q,%q,%q]}`, a1.id, b1.id, b2.id))
	var revoked []string
	for _, x := range m["tokens"].([]any) {
		tk := x.(map[string]any)
		if tk["revoke_reason"] != "REVOKE_REASON_ADMIN" || tk["state"] != "TOKEN_STATE_REVOKED" {
			t.Errorf("revoked token %v; want state REVOKED and reason ADMIN", tk)
		}
		revoked = append(revoked, tk["token_id"].(string))
	}
	slices.Sort(revoked)
	want := []string{b1.id, b2.id}
	slices.Sort(want)
	if !slices.Equal(revoked, want) {
		t.Errorf("batchRevoke by ids revoked %v; want %v (a1 was already revoked)", revoked, want)
	}

	// Leak report: no credential, the same empty answer matched or not.
	for _, body := range []string{
		`{"secrets":["tka_nothing-like-a-token"]}`,
		`{"secrets":["` + l1.secret + `","garbage"]}`,
	} {
		code, m := call("POST", "/v1/tokens:reportLeaked", body, "")
		if code != 200 || len(m) != 0 {
			t.Errorf("reportLeaked = %d %v; want 200 {}", code, m)
		}
	}
	// The answer comes before the revocation: poll for it.
	eventually(t, 10*time.Second, func() string {
		m := mustOK("GET", "/v1/workspaces/acme/tokens/"+l1.id, "")
		if m["state"] != "TOKEN_STATE_REVOKED" || m["revoke_reason"] != "REVOKE_REASON_LEAKED" {
			return fmt.Sprintf("reported token = %v; want revoked as leaked", m)
		}
		return ""
	})
	if code, m := call("POST", "/v1/tokens:reportLeaked", `{"secrets":[]}`, ""); code != 400 {
		t.Errorf("reportLeaked with no secrets = %d %v; want 400", code, m)
	}
	many := make([]string, 1001)
	for i := range many {
		many[i] = `"` + l1.secret + `"`
	}
	if code, m := call("POST", "/v1/tokens:reportLeaked", `{"secrets":[`+strings.Join(many, ",")+`]}`, ""); code != 400 {
		t.Errorf("reportLeaked with 1001 secrets = %d %v; want 400", code, m)
	}
	// Revoked tokens listed by state, without show_revoked.
	m = mustOK("GET", "/v1/workspaces/acme/tokens?states=TOKEN_STATE_REVOKED", "")
	if got := len(m["tokens"].([]any)); got != 5 {
		t.Errorf("revoked tokens listed: %d; want 5", got)
	}
}

// eventually checks cond every 10 ms until it reports nothing wrong (""),
// failing the test with its last report after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("after %s: %s", timeout, msg)
		case <-tick.C:
		}
	}
}
