package daemon_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// memberClient calls the REST facade of a daemon with chosen headers. A
// request with a body says it is JSON, as the page and every API client do.
type memberClient struct {
	t    *testing.T
	base string
}

func (c memberClient) call(method, path, body string, headers ...string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if http.CanonicalHeaderKey(headers[i]) == "Content-Type" {
			req.Header.Del("Content-Type")
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("%s %s: body is not JSON: %s", method, path, data)
	}
	return resp.StatusCode, m
}

func (c memberClient) must(method, path, body string, headers ...string) map[string]any {
	c.t.Helper()
	code, m := c.call(method, path, body, headers...)
	if code != http.StatusOK {
		c.t.Fatalf("%s %s = %d %v; want 200", method, path, code, m)
	}
	return m
}

func adminSecret(t *testing.T, cfg daemon.Config) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin.credential"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// memberFixture starts a daemon in member mode and makes workspaces acme
// (members alice and bob, one token each) and beta (bob only). It returns
// the client, the admin credential and the token ids of alice and bob.
func memberFixture(t *testing.T, proxies string) (c memberClient, admin, aliceTok, bobTok string, d *daemon.Daemon) {
	t.Helper()
	cfg := testConfig(t)
	cfg.TrustedUserHeader = "X-Forwarded-User"
	cfg.TrustedProxies = proxies
	d, _ = start(t, cfg)
	c = memberClient{t: t, base: "http://" + d.HTTPAddr.String()}
	admin = adminSecret(t, cfg)
	auth := []string{"Authorization", "Bearer " + admin}
	for _, s := range []struct{ path, body string }{
		{"/v1/workspaces", `{"workspace_id":"acme"}`},
		{"/v1/workspaces", `{"workspace_id":"beta"}`},
		{"/v1/workspaces/acme/members", `{"user_id":"alice"}`},
		{"/v1/workspaces/acme/members", `{"user_id":"bob"}`},
		{"/v1/workspaces/beta/members", `{"user_id":"bob"}`},
	} {
		c.must("POST", s.path, s.body, auth...)
	}
	tokenID := func(user string) string {
		m := c.must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"`+user+`","description":"`+user+`'s laptop"}`, auth...)
		return m["token"].(map[string]any)["token_id"].(string)
	}
	return c, admin, tokenID("alice"), tokenID("bob"), d
}

// TestMemberModeOverREST walks the member-mode rule of the authorization
// table through the REST facade: a person signed in by the trusted proxy
// reaches only their own tokens in their own workspaces.
func TestMemberModeOverREST(t *testing.T) {
	t.Parallel()
	c, admin, aliceTok, bobTok, _ := memberFixture(t, "127.0.0.0/8,::1/128")
	alice := []string{"X-Forwarded-User", "alice"}

	tests := []struct {
		name, method, path, body string
		headers                  []string
		want                     int
	}{
		{"own token", "GET", "/v1/workspaces/acme/tokens/" + aliceTok, "", alice, 200},
		{"reveal own token", "POST", "/v1/workspaces/acme/tokens/" + aliceTok + ":reveal", "{}", alice, 200},
		{"create for self", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"ci"}`, alice, 200},
		{"create for another member", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"bob","description":"x"}`, alice, 403},
		{"create without user", "POST", "/v1/workspaces/acme/tokens", `{"description":"x"}`, alice, 403},
		{"create in a workspace of others", "POST", "/v1/workspaces/beta/tokens", `{"user_id":"alice","description":"x"}`, alice, 403},
		{"list tokens of a workspace of others", "GET", "/v1/workspaces/beta/tokens", "", alice, 403},
		{"list tokens of a missing workspace", "GET", "/v1/workspaces/nope/tokens", "", alice, 403},
		{"get another member's token", "GET", "/v1/workspaces/acme/tokens/" + bobTok, "", alice, 404},
		{"reveal another member's token", "POST", "/v1/workspaces/acme/tokens/" + bobTok + ":reveal", "{}", alice, 404},
		{"revoke another member's token", "DELETE", "/v1/workspaces/acme/tokens/" + bobTok, "", alice, 404},
		{"bad token id", "GET", "/v1/workspaces/acme/tokens/x", "", alice, 400},
		{"get workspace", "GET", "/v1/workspaces/acme", "", alice, 403},
		{"create workspace", "POST", "/v1/workspaces", `{"workspace_id":"mine"}`, alice, 403},
		{"list members", "GET", "/v1/workspaces/acme/members", "", alice, 403},
		{"add member", "POST", "/v1/workspaces/beta/members", `{"user_id":"alice"}`, alice, 403},
		{"remove member", "DELETE", "/v1/workspaces/acme/members/bob", "", alice, 403},
		{"list zoos", "GET", "/v1/workspaces/acme/zoos", "", alice, 403},
		{"validate", "POST", "/v1/tokens:validate", `{"secret":"x"}`, alice, 403},
		{"admin credential does not widen a member", "POST", "/v1/workspaces", `{"workspace_id":"mine"}`,
			append([]string{"Authorization", "Bearer " + admin}, alice...), 403},
		{"cross-site request is not signed in", "GET", "/v1/workspaces", "", append([]string{"Sec-Fetch-Site", "cross-site"}, alice...), 401},
		{"same-origin request is", "GET", "/v1/workspaces", "", append([]string{"Sec-Fetch-Site", "same-origin"}, alice...), 200},
		{"two user headers are not signed in", "GET", "/v1/workspaces", "", append([]string{"X-Forwarded-User", "bob"}, alice...), 401},
		{"gateway metadata header is not the user header", "GET", "/v1/workspaces", "", []string{"Grpc-Metadata-X-Forwarded-User", "alice"}, 401},
		{"roll another member's token", "POST", "/v1/workspaces/acme/tokens/" + bobTok + ":roll", `{"grace":"60s"}`, alice, 404},
		{"change own token", "PATCH", "/v1/workspaces/acme/tokens/" + aliceTok + "?update_mask=disabled", `{"disabled":false}`, alice, 403},
		{"change the workspace", "PATCH", "/v1/workspaces/acme?update_mask=display_name", `{"display_name":"x"}`, alice, 403},
		{"revoke by user", "POST", "/v1/workspaces/acme/tokens:batchRevoke", `{"user_id":"alice"}`, alice, 403},
		// A page of another site can make the browser send the proxy's
		// cookie with a form (text/plain, urlencoded, multipart) or a
		// no-cors fetch; over plain HTTP no Sec-Fetch-Site says so.
		{"create sent as text/plain", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"evil","seed":"x"}`, append([]string{"Content-Type", "text/plain"}, alice...), 415},
		{"create sent as a urlencoded form", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"evil"}`, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, alice...), 415},
		{"create sent as multipart", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"evil"}`, append([]string{"Content-Type", "multipart/form-data; boundary=x"}, alice...), 415},
		{"roll sent as text/plain", "POST", "/v1/workspaces/acme/tokens/" + aliceTok + ":roll", `{"grace":"60s"}`, append([]string{"Content-Type", "text/plain"}, alice...), 415},
		{"revoke without a content type", "DELETE", "/v1/workspaces/acme/tokens/" + aliceTok, "", append([]string{"Content-Type", ""}, alice...), 415},
		{"create from another site's page", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"evil"}`, append([]string{"Origin", "http://evil.test"}, alice...), 403},
		{"create from an opaque origin", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"evil"}`, append([]string{"Origin", "null"}, alice...), 403},
		{"revoke from another site's page", "DELETE", "/v1/workspaces/acme/tokens/" + aliceTok, "", append([]string{"Origin", "http://evil.test"}, alice...), 403},
		{"create from the hub's own page", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"own page"}`, append([]string{"Origin", c.base}, alice...), 200},
		// Rolling is for the owner as creating and revoking are; the new
		// token is the member's own, in the same family.
		{"roll own token", "POST", "/v1/workspaces/acme/tokens/" + aliceTok + ":roll", `{"grace":"60s"}`, alice, 200},
		{"revoke own token", "DELETE", "/v1/workspaces/acme/tokens/" + aliceTok, "", alice, 200},
	}
	for _, tc := range tests {
		if code, m := c.call(tc.method, tc.path, tc.body, tc.headers...); code != tc.want {
			t.Errorf("%s: %s %s = %d %v; want %d", tc.name, tc.method, tc.path, code, m["detail"], tc.want)
		}
	}

	// Lists are cut to what the member may see.
	ws := c.must("GET", "/v1/workspaces", "", alice...)["workspaces"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["workspace_id"] != "acme" {
		t.Errorf("alice's workspaces = %v; want acme only", ws)
	}
	toks := c.must("GET", "/v1/workspaces/acme/tokens?show_revoked=true", "", alice...)["tokens"].([]any)
	if len(toks) != 4 {
		t.Errorf("alice sees %d tokens; want her 4 (the revoked one, its rolled successor and the two made above)", len(toks))
	}
	for _, tok := range toks {
		if u := tok.(map[string]any)["user_id"]; u != "alice" {
			t.Errorf("alice's list holds a token of %v", u)
		}
	}
	// A member revoking their own token is recorded as the user's doing,
	// also on the token its roll made, which the revocation reached.
	rolled := c.must("GET", "/v1/workspaces/acme/tokens/"+aliceTok, "", "Authorization", "Bearer "+admin)
	if got := rolled["revoke_reason"]; got != "REVOKE_REASON_USER" {
		t.Errorf("alice's revoked token has revoke_reason %v; want REVOKE_REASON_USER", got)
	}
	next, _ := rolled["replaced_by"].(string)
	if next == "" {
		t.Fatalf("alice's rolled token = %v; want replaced_by set", rolled)
	}
	succ := c.must("GET", "/v1/workspaces/acme/tokens/"+next, "", "Authorization", "Bearer "+admin)
	if succ["user_id"] != "alice" || succ["state"] != "TOKEN_STATE_REVOKED" || succ["revoke_reason"] != "REVOKE_REASON_USER" {
		t.Errorf("the token alice's roll made = %v; want alice's, revoked for REVOKE_REASON_USER", succ)
	}
	// Bob's token is untouched, and the admin still sees everything.
	all := c.must("GET", "/v1/workspaces/acme/tokens?show_revoked=true", "", "Authorization", "Bearer "+admin)["tokens"].([]any)
	if len(all) != 5 {
		t.Errorf("admin sees %d tokens; want 5", len(all))
	}
	if got := c.must("GET", "/v1/workspaces/acme/tokens/"+bobTok, "", "Authorization", "Bearer "+admin)["state"]; got != "TOKEN_STATE_ACTIVE" {
		t.Errorf("bob's token state = %v; want active", got)
	}
}

// TestMemberListsPageThroughOthersTokens checks that a member's list fills
// its pages from deep in a workspace full of other members' tokens.
func TestMemberListsPageThroughOthersTokens(t *testing.T) {
	t.Parallel()
	c, admin, aliceTok, _, _ := memberFixture(t, "127.0.0.1")
	for range 5 {
		c.must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"bob","description":"b"}`, "Authorization", "Bearer "+admin)
	}
	m := c.must("GET", "/v1/workspaces/acme/tokens?page_size=2", "", "X-Forwarded-User", "alice")
	toks := m["tokens"].([]any)
	if len(toks) != 1 || toks[0].(map[string]any)["token_id"] != aliceTok || m["next_page_token"] != "" {
		t.Errorf("alice's first page = %v; want her one token and no next page", m)
	}
}

// TestUntrustedAddressUserHeaderIgnored: the header from an address outside
// --trusted-proxies signs nobody in.
func TestUntrustedAddressUserHeaderIgnored(t *testing.T) {
	t.Parallel()
	c, admin, _, _, _ := memberFixture(t, "10.0.0.0/8")
	if code, m := c.call("GET", "/v1/workspaces", "", "X-Forwarded-User", "alice"); code != http.StatusUnauthorized {
		t.Errorf("header from 127.0.0.1 with proxies 10.0.0.0/8: %d %v; want 401", code, m)
	}
	// A service credential works as usual beside it.
	if code, m := c.call("POST", "/v1/workspaces", `{"workspace_id":"ops"}`, "X-Forwarded-User", "alice", "Authorization", "Bearer "+admin); code != http.StatusOK {
		t.Errorf("admin with an ignored user header: %d %v; want 200", code, m)
	}
}

// TestGRPCCannotClaimMember: member mode exists only on the HTTP port; no
// gRPC metadata signs a member in.
func TestGRPCCannotClaimMember(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.TrustedUserHeader = "X-Forwarded-User"
	cfg.TrustedProxies = "127.0.0.1"
	_, conn := start(t, cfg)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "x-forwarded-user", "alice")
	_, err := pb.NewWorkspaceServiceClient(conn).ListWorkspaces(ctx, &pb.ListWorkspacesRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC ListWorkspaces with x-forwarded-user metadata: %v; want Unauthenticated", err)
	}
}

// TestMemberModeNeedsProxies: member mode without --trusted-proxies does
// not start, rather than trust every local process as any member.
func TestMemberModeNeedsProxies(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.TrustedUserHeader = "X-Forwarded-User"
	d, err := daemon.Start(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		d.Shutdown(context.Background())
		t.Fatal("Start in member mode without --trusted-proxies succeeded")
	}
	if !strings.Contains(err.Error(), "needs --trusted-proxies") {
		t.Errorf("error %q does not say --trusted-proxies is needed", err)
	}
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("the refused start made the data directory (%v)", err)
	}
}
