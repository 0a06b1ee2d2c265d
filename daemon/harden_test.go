package daemon_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestMethodOverrideIgnored: a POST that asks, by header or as a form, to
// be treated as another method is not: a proxy filtering on the method
// sees what the server does.
func TestMethodOverrideIgnored(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	c := teststack.RunDaemon(t, cfg).REST()
	c.Must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`, 200)
	c.Must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200)
	created := c.Must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
	id := jsonField(t, created, "token", "token_id")
	path := "/v1/workspaces/acme/tokens/" + id

	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		code, _, body := c.Do("POST", path, "", map[string]string{"X-HTTP-Method-Override": "DELETE", "Content-Type": ct})
		if code < 400 {
			t.Errorf("POST %s with X-HTTP-Method-Override: DELETE (%s) = %d %s; want refused", path, ct, code, body)
		}
	}
	// A form POST is not turned into the GET of the same path either.
	code, _, body := c.Do("POST", path, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code < 400 {
		t.Errorf("form POST %s = %d %s; want refused", path, code, body)
	}
	got := c.Must("GET", path, "", 200)
	if state := jsonField(t, got, "state"); state != "TOKEN_STATE_ACTIVE" {
		t.Errorf("after the override attempts the token is %s; want TOKEN_STATE_ACTIVE", state)
	}
}

// TestClientDeadlineIsNotAnError: a client-chosen Grpc-Timeout far too
// short to honour fails the request but writes no ERROR line.
func TestClientDeadlineIsNotAnError(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	logs := &teststack.Logs{}
	c := teststack.RunDaemonLogged(t, cfg, logs.Logger()).REST()
	c.Must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`, 200)
	c.Must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200)
	secret := jsonField(t, c.Must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200), "secret")
	code, _, body := c.Do("GET", "/api/v1/tokens/"+secret+"/info", "", map[string]string{"Grpc-Timeout": "1n"})
	if code != http.StatusGatewayTimeout {
		t.Fatalf("GET token info with Grpc-Timeout: 1n = %d %s; want 504", code, body)
	}
	code, _, body = c.Do("GET", "/v1/workspaces", "", map[string]string{"Grpc-Timeout": "1n"})
	if code != http.StatusGatewayTimeout {
		t.Fatalf("GET /v1/workspaces with Grpc-Timeout: 1n = %d %s; want 504", code, body)
	}
	// The request log line follows the response.
	teststack.Eventually(t, 5*time.Second, func() error {
		if n := strings.Count(logs.String(), "status=504"); n < 2 {
			return fmt.Errorf("%d request log lines for the two 504s:\n%s", n, logs)
		}
		return nil
	})
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("ERROR log line for a client's deadline: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "status=504") {
		t.Errorf("no request log line for the 504s:\n%s", logs)
	}
}

// jsonField digs a string out of a JSON object by keys.
func jsonField(t *testing.T, body string, keys ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %q in %s", k, body)
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v in %s is not a string", keys, body)
	}
	return s
}

// TestRateLimitREST: the SDK endpoints are limited per client address,
// over REST and gRPC from one budget, answering 429 with Retry-After and a
// JSON detail; endpoints behind a credential are not.
func TestRateLimitREST(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	cfg.RateLimit, cfg.RateBurst = 0.01, 3
	d := teststack.RunDaemon(t, cfg)
	c := d.REST()
	c.Must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`, 200)
	c.Must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200)
	secret := jsonField(t, c.Must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200), "secret")
	for i := range 2 {
		if code, _, body := c.Do("GET", "/api/v1/tokens/"+secret+"/info", "", nil); code != 200 {
			t.Fatalf("call %d within the burst = %d %s", i+1, code, body)
		}
	}
	// The third of the burst over gRPC, from the same address.
	conn := d.Conn()
	self := pb.NewSelfServiceClient(conn)
	if _, err := self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret}); err != nil {
		t.Fatalf("gRPC call within the burst = %v", err)
	}
	code, header, body := c.Do("GET", "/api/v1/tokens/"+secret+"/info", "", nil)
	if code != http.StatusTooManyRequests {
		t.Fatalf("REST call past the burst = %d %s; want 429", code, body)
	}
	if ra, err := strconv.Atoi(header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q; want whole seconds", header.Get("Retry-After"))
	}
	if detail := jsonField(t, body, "detail"); !strings.Contains(detail, "too many requests") {
		t.Errorf("detail = %q", detail)
	}
	code, _, _ = c.Do("POST", "/api/v1/tokens-seed/pick", `{"seed":"qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE"}`, nil)
	if code != http.StatusTooManyRequests {
		t.Errorf("seed pick past the burst = %d; want 429", code)
	}
	if _, err := self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC call past the burst = %v; want ResourceExhausted", err)
	}
	c.Must("GET", "/v1/workspaces/acme/tokens", "", 200)
}

// TestRateLimitFlags: the limits are configurable by flag and environment.
func TestRateLimitFlags(t *testing.T) {
	t.Parallel()
	cfg, err := daemon.ParseConfig([]string{"--rate-limit", "5.5", "--grpc-max-concurrent-streams", "64", "--grpc-request-read-timeout", "3s"},
		func(k string) string {
			return map[string]string{"TOKENAUTHORITY_RATE_BURST": "7", "TOKENAUTHORITY_GRPC_MAX_HEADER_BYTES": "4096"}[k]
		}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit != 5.5 || cfg.RateBurst != 7 || cfg.GRPC.MaxConcurrentStreams != 64 || cfg.GRPC.MaxHeaderListBytes != 4096 || cfg.GRPC.RequestReadTimeout != 3*time.Second {
		t.Errorf("ParseConfig = %+v", cfg)
	}
	for _, args := range [][]string{{"--rate-limit", "-1"}, {"--rate-burst", "0"}, {"--grpc-max-header-bytes", "10"}, {"--grpc-connection-timeout", "0s"}} {
		if _, err := daemon.ParseConfig(args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("ParseConfig(%q) accepted", args)
		}
	}
}

// TestGatewayRateLimit: open gateway decisions (Envoy's Check, /v1/authz)
// draw on their own per-address budget, answering ResourceExhausted and
// 429 with Retry-After past it, while the SDK budget is untouched.
func TestGatewayRateLimit(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	cfg.AuthzRateLimit, cfg.AuthzRateBurst = 0.01, 2
	d := teststack.RunDaemon(t, cfg)
	c := d.REST()
	// No token: the admin credential the client sends would be read as one.
	authz := map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m.bin", "Authorization": ""}
	// An unknown zoo is a 403 decision: it still counts against the budget.
	if code, _, body := c.Do("GET", "/v1/authz", "", authz); code != http.StatusForbidden {
		t.Fatalf("first decision = %d %s; want 403", code, body)
	}
	conn := d.Conn()
	check := func() (*authv3.CheckResponse, error) {
		return authv3.NewAuthorizationClient(conn).Check(t.Context(), &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
			Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/zoo/v1/public/models/acme/pub/m.bin"}},
		}})
	}
	if _, err := check(); err != nil {
		t.Fatalf("second decision, over gRPC = %v", err)
	}
	code, header, body := c.Do("GET", "/v1/authz", "", authz)
	if code != http.StatusTooManyRequests {
		t.Fatalf("/v1/authz past the burst = %d %s; want 429", code, body)
	}
	if ra, err := strconv.Atoi(header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q; want whole seconds", header.Get("Retry-After"))
	}
	if detail := jsonField(t, body, "detail"); !strings.Contains(detail, "too many gateway decisions") {
		t.Errorf("detail = %q", detail)
	}
	if _, err := check(); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("Check past the burst = %v; want ResourceExhausted", err)
	}
	// The SDK endpoints have their own budget.
	if code, _, body := c.Do("POST", "/api/v1/tokens-seed/pick", `{"seed":"qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE"}`, nil); code != http.StatusNotFound {
		t.Errorf("seed pick after the gateway budget ran out = %d %s; want 404", code, body)
	}
}
