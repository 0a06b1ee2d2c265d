package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The addresses docs/nginx/tokenauthority.conf names; the test replaces
// exactly these, so the file it runs is the documented one.
const (
	docAuthorityAddr = "127.0.0.1:8080"
	docUpstreamAddr  = "127.0.0.1:9000"
	docListenAddr    = "127.0.0.1:8000"
)

// upstream is a model server that records the headers of every request,
// by the X-Test-Id the client sent.
type upstream struct {
	mu   sync.Mutex
	seen map[string]http.Header
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.seen[r.Header.Get("X-Test-Id")] = r.Header.Clone()
	u.mu.Unlock()
	io.WriteString(w, "model bytes")
}

func (u *upstream) headers(id string) (http.Header, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.seen[id]
	return h, ok
}

// TestNginxAuthRequest puts a real nginx, configured with the file the
// gateway documentation shows, in front of a model server, and checks the
// access table through it.
func TestNginxAuthRequest(t *testing.T) {
	t.Parallel()
	nginx := nginxBinary(t)
	p := startServer(t, t.TempDir())
	z := makeGatewayZoos(t, p)
	secrets, identity := z.secrets, z.identity

	up := &upstream{seen: map[string]http.Header{}}
	model := httptest.NewServer(up)
	t.Cleanup(model.Close)
	base := startNginx(t, nginx, strings.TrimPrefix(p.httpAddr, "http://"), strings.TrimPrefix(model.URL, "http://"))

	type cell struct {
		zoo, op, token string
		want           int
	}
	cells := []cell{
		// The access table of the product brief.
		{"pub", "download", "", 200},
		{"pub", "download", "own", 200},
		{"pub", "download", "other", 200},
		{"pub", "cloud", "", 401},
		{"pub", "cloud", "own", 200},
		{"pub", "cloud", "other", 200},
		{"priv", "download", "", 403},
		{"priv", "download", "own", 200},
		{"priv", "download", "other", 403},
		{"priv", "cloud", "", 403},
		{"priv", "cloud", "own", 200},
		{"priv", "cloud", "other", 403},
		// Bad tokens are refused even where none is needed.
		{"pub", "download", "revoked", 401},
		{"pub", "download", "malformed", 401},
	}
	n := 0
	for _, c := range cells {
		for _, via := range []string{"token", "bearer"} {
			if c.token == "" && via == "bearer" {
				continue
			}
			n++
			id := fmt.Sprintf("req-%d", n)
			path := "/zoo/v1/public/models/acme/" + c.zoo + "/weights.bin?rev=2"
			if c.op == "cloud" {
				path = "/zoo/v1/inference/acme/" + c.zoo + "/predict"
			}
			h := http.Header{"X-Test-Id": {id}, "X-Workspace-Id": {"acme"}, "X-User-Id": {"root"}, "X-Token-Id": {"forged"}}
			if s := secrets[c.token]; s != "" {
				if via == "token" {
					h.Set("token", s)
				} else {
					h.Set("Authorization", "Bearer "+s)
				}
			}
			name := fmt.Sprintf("%s %s %s via %s", c.zoo, c.op, c.token, via)
			status, respHeader, body := request(t, "GET", base+path, h)
			if status != c.want {
				t.Errorf("%s: status %d %s; want %d", name, status, body, c.want)
				continue
			}
			got, reached := up.headers(id)
			if reached != (c.want == 200) {
				t.Errorf("%s: reached the model server: %v", name, reached)
				continue
			}
			if c.want != 200 {
				var b struct{ Detail, Reason string }
				if err := json.Unmarshal([]byte(body), &b); err != nil || b.Detail == "" || !strings.HasPrefix(b.Reason, "REASON_") {
					t.Errorf("%s: body %q; want the authority's JSON detail and reason", name, body)
				}
				if (c.want == 401) != strings.HasPrefix(respHeader.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: WWW-Authenticate %q", name, respHeader.Get("WWW-Authenticate"))
				}
				continue
			}
			want := identity[c.token] // empty for an anonymous request
			for i, k := range []string{"X-Workspace-Id", "X-Token-Id", "X-User-Id"} {
				if v := got.Values(k); want[i] == "" && len(v) != 0 || want[i] != "" && (len(v) != 1 || v[0] != want[i]) {
					t.Errorf("%s: upstream %s = %q; want %q only", name, k, v, want[i])
				}
			}
			for k, vs := range got {
				for _, v := range vs {
					for _, s := range secrets {
						if s != "" && strings.Contains(v, s) {
							t.Errorf("%s: the token reached the model server in %s", name, k)
						}
					}
				}
			}
		}
	}

	// Forward auth is logged and counted under its route, never with the
	// URI or the token.
	logs := p.logs.String()
	if !strings.Contains(logs, `"route":"/v1/authz"`) {
		t.Errorf("server log has no request record for /v1/authz")
	}
	for name, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("server log contains the %s token", name)
		}
	}

	// Paths the authority refuses whatever nginx would make of them.
	for _, path := range []string{
		"/zoo/v1/public/models/acme/pub/../priv/weights.bin",
		"/zoo/v1/public/models/acme%2Fpriv/weights.bin",
		"/zoo/v1/public/models//acme/priv/weights.bin",
		"/zoo/v1/other/acme/pub/x",
	} {
		status, _, body := request(t, "GET", base+path, http.Header{"token": {secrets["other"]}})
		if status != 403 || !strings.Contains(body, "detail") {
			t.Errorf("%s: status %d %s; want 403 with a detail", path, status, body)
		}
	}
}

// TestNginxNaiveModelServer puts the documented nginx configuration in
// front of the most naive model server there is (Go's http.FileServer
// without a ServeMux) and tries every path and header trick on it: a
// private file is never served to an anonymous client or another
// workspace, and plain requests still pass.
func TestNginxNaiveModelServer(t *testing.T) {
	t.Parallel()
	nginx := nginxBinary(t)
	p := startServer(t, t.TempDir())
	z := makeGatewayZoos(t, p)
	model, up := naiveModelServer(t)
	base := startNginx(t, nginx, p.httpAddr, model)
	addr := strings.TrimPrefix(base, "http://")
	t.Run("paths", func(t *testing.T) { checkGatewayPaths(t, addr, z) })
	t.Run("headers", func(t *testing.T) { checkGatewayHeaders(t, addr, up, z) })
}

// nginxBinary finds Debian's nginx.
func nginxBinary(t *testing.T) string {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err == nil {
		return nginx
	}
	if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
		t.Fatalf("nginx is not installed (scripts/test installs Debian's nginx-light): %v", err)
	}
	return "/usr/sbin/nginx"
}

// adminAPI returns a function calling the REST API with the admin
// credential; it fails the test on any status but 200.
func adminAPI(t *testing.T, p *proc) func(method, path, body string) map[string]any {
	return func(method, path, body string) map[string]any {
		t.Helper()
		status, _, out := request(t, method, "http://"+p.httpAddr+path, http.Header{"Authorization": {"Bearer " + p.admin}, "Content-Type": {"application/json"}}, body)
		if status != 200 {
			t.Fatalf("%s %s: %d %s", method, path, status, out)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return m
	}
}

func secret(created map[string]any) string { s, _ := created["secret"].(string); return s }

func tokenID(created map[string]any) string {
	tok, _ := created["token"].(map[string]any)
	id, _ := tok["token_id"].(string)
	return id
}

// request sends one HTTP request and returns status, headers and body.
func request(t *testing.T, method, url string, h http.Header, body ...string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if len(body) > 0 && body[0] != "" {
		rd = bytes.NewReader([]byte(body[0]))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs // as given: "token" stays lower-case, as the SDK sends it
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// startNginx writes a main configuration around the documented server
// configuration, with every path inside a temporary directory, starts
// nginx as the current user on a free loopback port, and returns its base
// URL.
func startNginx(t *testing.T, nginx, authorityAddr, upstreamAddr string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "nginx", "tokenauthority.conf"))
	if err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	site := string(doc)
	for from, to := range map[string]string{docAuthorityAddr: authorityAddr, docUpstreamAddr: upstreamAddr, docListenAddr: listen} {
		if c := strings.Count(site, from); c != 1 {
			t.Fatalf("docs/nginx/tokenauthority.conf names %s %d times; want once", from, c)
		}
		site = strings.Replace(site, from, to, 1)
	}
	dir := t.TempDir()
	userLine := ""
	if os.Geteuid() == 0 {
		// As root, nginx would switch its workers to "nobody", who cannot
		// write to the test's temporary directory.
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		userLine = "user " + u.Username + ";"
	}
	main := fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/tokenauthority.conf;
}
`, userLine, dir)
	if err := os.WriteFile(filepath.Join(dir, "tokenauthority.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}
	if out, err := exec.Command(nginx, append(args, "-t")...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	runGateway(t, "nginx", exec.Command(nginx, args...), syscall.SIGQUIT, listen, func() string {
		logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		return "error.log:\n" + string(logs)
	})
	return "http://" + listen
}

// freePort returns a loopback address no one listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
