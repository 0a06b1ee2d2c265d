package daemon_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tokenauthority/daemon"
)

// logBuffer collects the daemon's log lines; safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged starts a daemon whose debug log goes to the returned buffer.
func startLogged(t *testing.T, cfg daemon.Config) (*daemon.Daemon, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	d, err := daemon.Start(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { d.Shutdown(t.Context()) })
	return d, logs
}

// restClient calls the daemon's REST API with the bootstrap credential.
type restClient struct {
	t     *testing.T
	base  string
	admin string
}

func newRESTClient(t *testing.T, d *daemon.Daemon, cfg daemon.Config) *restClient {
	t.Helper()
	cred, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin.credential"))
	if err != nil {
		t.Fatal(err)
	}
	return &restClient{t: t, base: "http://" + d.HTTPAddr.String(), admin: strings.TrimSpace(string(cred))}
}

// do sends a request with the admin credential and extra headers; it
// returns the status, headers and body.
func (c *restClient) do(method, path, body string, header map[string]string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.admin)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(data)
}

// must sends a request and fails unless it answers want.
func (c *restClient) must(method, path, body string, want int) string {
	c.t.Helper()
	code, _, data := c.do(method, path, body, nil)
	if code != want {
		c.t.Fatalf("%s %s = %d %s; want %d", method, path, code, data, want)
	}
	return data
}

// TestMethodOverrideIgnored: a POST that asks, by header or as a form, to
// be treated as another method is not: a proxy filtering on the method
// sees what the server does.
func TestMethodOverrideIgnored(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	d, _ := startLogged(t, cfg)
	c := newRESTClient(t, d, cfg)
	c.must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`, 200)
	c.must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200)
	created := c.must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
	id := jsonField(t, created, "token", "token_id")
	path := "/v1/workspaces/acme/tokens/" + id

	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		code, _, body := c.do("POST", path, "", map[string]string{"X-HTTP-Method-Override": "DELETE", "Content-Type": ct})
		if code < 400 {
			t.Errorf("POST %s with X-HTTP-Method-Override: DELETE (%s) = %d %s; want refused", path, ct, code, body)
		}
	}
	// A form POST is not turned into the GET of the same path either.
	code, _, body := c.do("POST", path, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code < 400 {
		t.Errorf("form POST %s = %d %s; want refused", path, code, body)
	}
	got := c.must("GET", path, "", 200)
	if state := jsonField(t, got, "state"); state != "TOKEN_STATE_ACTIVE" {
		t.Errorf("after the override attempts the token is %s; want TOKEN_STATE_ACTIVE", state)
	}
}

// TestClientDeadlineIsNotAnError: a client-chosen Grpc-Timeout far too
// short to honour fails the request but writes no ERROR line.
func TestClientDeadlineIsNotAnError(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	d, logs := startLogged(t, cfg)
	c := newRESTClient(t, d, cfg)
	c.must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`, 200)
	c.must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200)
	secret := jsonField(t, c.must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200), "secret")
	code, _, body := c.do("GET", "/api/v1/tokens/"+secret+"/info", "", map[string]string{"Grpc-Timeout": "1n"})
	if code != http.StatusGatewayTimeout {
		t.Fatalf("GET token info with Grpc-Timeout: 1n = %d %s; want 504", code, body)
	}
	code, _, body = c.do("GET", "/v1/workspaces", "", map[string]string{"Grpc-Timeout": "1n"})
	if code != http.StatusGatewayTimeout {
		t.Fatalf("GET /v1/workspaces with Grpc-Timeout: 1n = %d %s; want 504", code, body)
	}
	time.Sleep(50 * time.Millisecond) // the log line follows the response
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
