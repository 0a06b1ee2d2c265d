package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"tokenauthority/daemon"
	"tokenauthority/ui"
)

// TestSecurityHeaders checks that every response of the page carries the
// strict Content-Security-Policy and its companions.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	svc := startService(t, nil)
	for _, path := range []string{"/ui/", "/ui/app.js", "/ui/api.js", "/ui/view.js", "/ui/sdk.js", "/ui/style.css", "/ui/session", "/create_token?seed=" + testSeed + "&message=hi", "/create_token?seed=abc&message=hi"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, err := http.NewRequest(method, svc.base+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := http.StatusOK; resp.StatusCode != want && !strings.Contains(path, "seed=abc") {
				t.Errorf("%s %s = %d; want %d", method, path, resp.StatusCode, want)
			}
			want := map[string]string{
				"Content-Security-Policy": ui.ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			}
			for h, v := range want {
				if got := resp.Header.Get(h); got != v {
					t.Errorf("%s %s: %s = %q; want %q", method, path, h, got, v)
				}
			}
		}
	}
	for _, part := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'", "object-src 'none'"} {
		if !strings.Contains(ui.ContentSecurityPolicy, part) {
			t.Errorf("CSP %q lacks %q", ui.ContentSecurityPolicy, part)
		}
	}
	if strings.Contains(ui.ContentSecurityPolicy, "unsafe-") {
		t.Errorf("CSP %q allows something unsafe", ui.ContentSecurityPolicy)
	}
}

// TestNoInlineScript: the page's HTML loads its code from files only, as
// the CSP demands.
func TestNoInlineScript(t *testing.T) {
	t.Parallel()
	svc := startService(t, nil)
	for _, path := range []string{"/ui/", "/create_token"} {
		resp, err := http.Get(svc.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		html := string(body)
		if !strings.Contains(html, `<script type="module" src="/ui/app.js"></script>`) {
			t.Errorf("%s does not load /ui/app.js", path)
		}
		if n := strings.Count(html, "<script"); n != 1 {
			t.Errorf("%s has %d script elements; want the one module", path, n)
		}
		for _, bad := range []string{"onclick=", "onload=", "style=", "javascript:", "http://", "https://"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
	}
}

func TestSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies string
		header  string
		want    string
	}{
		{"operator mode", "", "", `{"mode":"operator"}`},
		{"member from a trusted proxy", "127.0.0.1/32", "alice", `{"mode":"member","user":"alice"}`},
		{"header from an untrusted address", "192.0.2.0/24", "alice", `{"mode":"operator"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svc := startService(t, func(c *daemon.Config) {
				if tc.proxies != "" { // member mode needs its proxies named
					c.TrustedUserHeader = "X-Forwarded-User"
					c.TrustedProxies = tc.proxies
				}
			})
			req, err := http.NewRequest(http.MethodGet, svc.base+"/ui/session", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("X-Forwarded-User", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got json.RawMessage
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("session = %s; want %s", got, tc.want)
			}
		})
	}
}

// TestUIOff: --ui=false serves neither the page nor /create_token; the API
// stays.
func TestUIOff(t *testing.T) {
	t.Parallel()
	svc := startService(t, func(c *daemon.Config) { c.UI = false })
	for _, path := range []string{"/ui/", "/create_token", "/ui/app.js"} {
		resp, err := http.Get(svc.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s with the page off = %d; want 404", path, resp.StatusCode)
		}
	}
	if code, m := svc.api(t, "GET", "/v1/workspaces", nil); code != http.StatusOK {
		t.Errorf("API with the page off: %d %v", code, m)
	}
}
