package e2e_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokenauthority/internal/pathcases"
	"tokenauthority/internal/teststack"
)

// gatewayZoos is the authority's state behind a gateway test: workspaces
// acme and other, zoos acme/pub (public) and acme/priv (private), and the
// secrets of tokens by name ("" for none).
type gatewayZoos struct {
	secrets  map[string]string
	identity map[string][3]string // workspace, token id, user of a valid token
}

func makeGatewayZoos(t *testing.T, p *proc) gatewayZoos {
	t.Helper()
	api := adminAPI(t, p)
	api("POST", "/v1/workspaces", `{"workspace_id":"acme"}`)
	api("POST", "/v1/workspaces", `{"workspace_id":"other"}`)
	api("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`)
	api("POST", "/v1/workspaces/other/members", `{"user_id":"bob"}`)
	api("POST", "/v1/workspaces/acme/zoos", `{"zoo_id":"pub","visibility":"VISIBILITY_PUBLIC"}`)
	api("POST", "/v1/workspaces/acme/zoos", `{"zoo_id":"priv","visibility":"VISIBILITY_PRIVATE"}`)
	own := api("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"own"}`)
	other := api("POST", "/v1/workspaces/other/tokens", `{"user_id":"bob","description":"other"}`)
	revoked := api("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"revoked"}`)
	api("DELETE", "/v1/workspaces/acme/tokens/"+tokenID(revoked), "")
	return gatewayZoos{
		secrets:  map[string]string{"": "", "own": secret(own), "other": secret(other), "revoked": secret(revoked), "malformed": secret(own)[:len(secret(own))-1] + "!"},
		identity: map[string][3]string{"own": {"acme", tokenID(own), "alice"}, "other": {"other", tokenID(other), "bob"}},
	}
}

// privateMarker is in every private file of the naive model server.
const privateMarker = "PRIVATE MODEL BYTES"

// naiveModelServer is a model server as naive as they come: Go's
// http.FileServer without a ServeMux, so that it takes '#' and ';' as
// path characters and cleans ".." after decoding. It serves a directory
// holding acme/pub and acme/priv under the default rules' download paths,
// a private file outside the zoos, and a file for every plain path the
// path check must let through; it records each request's headers by the
// X-Test-Id the client sent.
func naiveModelServer(t *testing.T) (addr string, up *upstream) {
	t.Helper()
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	models := "zoo/v1/public/models/"
	write(models+"acme/priv/m", privateMarker+" of acme/priv")
	write(models+"priv/m", privateMarker+" outside the zoos")
	write("zoo/v1/inference/acme/priv/m", privateMarker+" of acme/priv inference")
	write(models+"acme/pub/m", "public model bytes")
	for _, uri := range plainDownloads(t) {
		p, _, _ := strings.Cut(uri, "?")
		name, err := url.PathUnescape(strings.TrimPrefix(p, "/"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(name, "/") {
			write(name, "public: "+name)
		}
	}
	up = &upstream{seen: map[string]http.Header{}}
	files := http.FileServer(http.Dir(root))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.mu.Lock()
		up.seen[r.Header.Get("X-Test-Id")] = r.Header.Clone()
		up.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), up
}

// plainDownloads are the plain paths of acme/pub that the path check lets
// through.
func plainDownloads(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, uri := range pathcases.Plain() {
		if strings.HasPrefix(uri, "/zoo/v1/public/models/acme/pub/") {
			out = append(out, uri)
		}
	}
	if len(out) == 0 {
		t.Fatal("pathcases.Plain lists no download of acme/pub")
	}
	return out
}

// rawRequest sends target exactly as given in an HTTP/1.1 request line,
// which Go's client would escape or cut (at '#'), and returns the status
// and body; a connection the gateway closes without an answer is status 0.
func rawRequest(t *testing.T, addr, method, target string, h [][2]string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, addr)
	for _, kv := range h {
		fmt.Fprintf(&b, "%s: %s\r\n", kv[0], kv[1])
	}
	b.WriteString("\r\n")
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&body); err != nil {
		t.Fatalf("%s %q: reading the body: %v", method, target, err)
	}
	return resp.StatusCode, body.String()
}

// checkGatewayPaths sends every attack path through the gateway at addr in
// front of a naive model server, anonymously and with the other
// workspace's token: no private byte may come back. The plain paths still
// serve their files, and the owner still reads the private zoo.
func checkGatewayPaths(t *testing.T, addr string, z gatewayZoos) {
	t.Helper()
	for _, uri := range pathcases.Attacks() {
		for _, who := range []string{"", "other"} {
			var h [][2]string
			if s := z.secrets[who]; s != "" {
				h = append(h, [2]string{"token", s})
			}
			status, body := rawRequest(t, addr, "GET", uri, h)
			if status == 200 || strings.Contains(body, privateMarker) {
				t.Errorf("GET %q as %q: status %d %q; a private file must never be served", uri, who, status, body)
			}
			t.Logf("GET %q as %q: %d %.100s", uri, who, status, body)
		}
	}
	for _, uri := range plainDownloads(t) {
		status, body := rawRequest(t, addr, "GET", uri, nil)
		if status != 200 || strings.Contains(body, privateMarker) {
			t.Errorf("GET %q anonymously: status %d %q; want 200 with the public file", uri, status, body)
		}
	}
	for who, want := range map[string]int{"own": 200, "other": 403, "": 403} {
		var h [][2]string
		if s := z.secrets[who]; s != "" {
			h = append(h, [2]string{"token", s})
		}
		status, body := rawRequest(t, addr, "GET", "/zoo/v1/public/models/acme/priv/m", h)
		if status != want || (want == 200) != strings.Contains(body, privateMarker) {
			t.Errorf("GET acme/priv/m as %q: status %d %q; want %d", who, status, body, want)
		}
	}
}

// checkGatewayHeaders spoofs the headers that carry the original request
// and the identity: whatever a client sends, the gateway judges the path
// it serves, and the model server never sees a client's identity headers
// or the token.
func checkGatewayHeaders(t *testing.T, addr string, up *upstream, z gatewayZoos) {
	t.Helper()
	pub := "/zoo/v1/public/models/acme/pub/m"
	priv := "/zoo/v1/public/models/acme/priv/m"
	spoofs := map[string][][2]string{
		"X-Original-*":              {{"X-Original-URI", pub}, {"X-Original-Method", "GET"}},
		"X-Forwarded-*":             {{"X-Forwarded-Uri", pub}, {"X-Forwarded-Method", "GET"}},
		"both families":             {{"X-Original-URI", pub}, {"X-Forwarded-Uri", pub}, {"X-Original-Method", "GET"}, {"X-Forwarded-Method", "GET"}},
		"repeated":                  {{"X-Original-URI", pub}, {"X-Original-URI", pub}, {"X-Forwarded-Uri", pub}, {"X-Forwarded-Uri", pub}},
		"lower-case":                {{"x-original-uri", pub}, {"x-forwarded-uri", pub}},
		"identity":                  {{"X-Workspace-Id", "acme"}, {"X-User-Id", "alice"}, {"X-Token-Id", "forged"}},
		"identity and X-Original":   {{"X-Original-URI", pub}, {"X-Workspace-Id", "acme"}, {"X-User-Id", "alice"}},
		"identity with underscores": {{"X_Workspace_Id", "acme"}, {"X_User_Id", "alice"}, {"X_Token_Id", "forged"}},
	}
	n := 0
	for name, spoof := range spoofs {
		// A private file, anonymously and from the other workspace: never.
		for _, who := range []string{"", "other"} {
			h := append([][2]string(nil), spoof...)
			if s := z.secrets[who]; s != "" {
				h = append(h, [2]string{"token", s})
			}
			status, body := rawRequest(t, addr, "GET", priv, h)
			if status == 200 || strings.Contains(body, privateMarker) {
				t.Errorf("%s, GET %s as %q: status %d %q; a private file must never be served", name, priv, who, status, body)
			}
		}
		// Allowed requests still pass, and reach the model server with
		// the authority's identity only.
		for who, path := range map[string]string{"": pub, "own": priv} {
			n++
			id := fmt.Sprintf("spoof-%d", n)
			h := append([][2]string{{"X-Test-Id", id}}, spoof...)
			if s := z.secrets[who]; s != "" {
				h = append(h, [2]string{"Authorization", "Bearer " + s})
			}
			status, body := rawRequest(t, addr, "GET", path, h)
			if status != 200 {
				t.Errorf("%s, GET %s as %q: status %d %q; want 200", name, path, who, status, body)
				continue
			}
			got, ok := up.headers(id)
			if !ok {
				t.Errorf("%s, GET %s as %q: never reached the model server", name, path, who)
				continue
			}
			want := z.identity[who]
			for i, k := range []string{"X-Workspace-Id", "X-Token-Id", "X-User-Id"} {
				if v := got.Values(k); want[i] == "" && len(v) != 0 || want[i] != "" && (len(v) != 1 || v[0] != want[i]) {
					t.Errorf("%s, GET %s as %q: upstream %s = %q; want %q only", name, path, who, k, v, want[i])
				}
			}
			for _, k := range []string{"Token", "Authorization"} {
				if v := got.Values(k); len(v) != 0 {
					t.Errorf("%s, GET %s as %q: the token reached the model server in %s", name, path, who, k)
				}
			}
			for k, v := range got {
				// A WSGI or CGI model server reads X_User_Id as X-User-Id.
				if strings.Contains(k, "_") {
					t.Errorf("%s, GET %s as %q: upstream got %s = %q", name, path, who, k, v)
				}
			}
		}
	}
}

// runGateway starts cmd, a gateway that will listen on listen, and waits
// until it does; at the end of the test it stops it with stop (its
// graceful signal), and on failure logs its output and what logs adds (if
// not nil).
func runGateway(t *testing.T, name string, cmd *exec.Cmd, stop os.Signal, listen string, logs func() string) {
	t.Helper()
	// Read while the process writes to it, so it must be safe to share.
	var out teststack.Logs
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(stop)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			more := ""
			if logs != nil {
				more = logs()
			}
			t.Logf("%s output:\n%s\n%s", name, out.String(), more)
		}
	})
	teststack.Eventually(t, 15*time.Second, func() error {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-done:
			t.Fatalf("%s exited: %v\n%s", name, err, out.String())
		default:
		}
		return fmt.Errorf("%s does not listen on %s\n%s", name, listen, out.String())
	})
}
