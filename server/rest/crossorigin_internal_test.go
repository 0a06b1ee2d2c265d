package rest

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRefuseCrossSite holds the member-mode rule for state-changing
// requests, cell by cell.
func TestRefuseCrossSite(t *testing.T) {
	t.Parallel()
	allowed := []string{"https://hub.example.com"}
	json := []string{"Content-Type", "application/json"}
	tests := []struct {
		name    string
		method  string
		host    string
		tls     bool
		headers []string
		want    int
	}{
		{"GET needs nothing", "GET", "hub.test", false, nil, 0},
		{"HEAD needs nothing", "HEAD", "hub.test", false, []string{"Origin", "http://evil.test"}, 0},
		{"OPTIONS needs nothing", "OPTIONS", "hub.test", false, []string{"Origin", "http://evil.test"}, 0},
		{"JSON without Origin", "POST", "hub.test", false, json, 0},
		{"JSON with charset", "POST", "hub.test", false, []string{"Content-Type", "Application/JSON; charset=utf-8"}, 0},
		{"no content type", "POST", "hub.test", false, nil, 415},
		{"empty content type", "DELETE", "hub.test", false, []string{"Content-Type", ""}, 415},
		{"text/plain form", "POST", "hub.test", false, []string{"Content-Type", "text/plain"}, 415},
		{"urlencoded form", "POST", "hub.test", false, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"multipart form", "POST", "hub.test", false, []string{"Content-Type", "multipart/form-data; boundary=b"}, 415},
		{"JSON look-alike", "POST", "hub.test", false, []string{"Content-Type", "application/json-seq"}, 415},
		{"text/plain naming JSON in a parameter", "POST", "hub.test", false, []string{"Content-Type", "text/plain; x=application/json"}, 415},
		{"two content types", "POST", "hub.test", false, []string{"Content-Type", "application/json", "Content-Type", "text/plain"}, 415},
		{"malformed content type", "PATCH", "hub.test", false, []string{"Content-Type", "application/json; ="}, 415},
		{"own origin", "POST", "hub.test", false, append([]string{"Origin", "http://hub.test"}, json...), 0},
		{"own origin with a port", "POST", "hub.test:8080", false, append([]string{"Origin", "http://hub.test:8080"}, json...), 0},
		{"own origin, default port spelled", "POST", "hub.test:80", false, append([]string{"Origin", "http://hub.test"}, json...), 0},
		{"own origin, case", "POST", "Hub.Test", false, append([]string{"Origin", "http://hub.test"}, json...), 0},
		{"own origin over TLS", "POST", "hub.test", true, append([]string{"Origin", "https://hub.test"}, json...), 0},
		{"own origin behind a TLS proxy", "POST", "hub.test", false, append([]string{"Origin", "https://hub.test", "X-Forwarded-Proto", "https"}, json...), 0},
		{"http page posting to the https hub", "POST", "hub.test", true, append([]string{"Origin", "http://hub.test"}, json...), 403},
		{"https page posting to the http hub", "POST", "hub.test", false, append([]string{"Origin", "https://hub.test"}, json...), 403},
		{"other port", "POST", "hub.test", false, append([]string{"Origin", "http://hub.test:8081"}, json...), 403},
		{"other site", "POST", "hub.test", false, append([]string{"Origin", "http://evil.test"}, json...), 403},
		{"sibling subdomain", "POST", "hub.test", false, append([]string{"Origin", "http://evil.hub.test"}, json...), 403},
		{"suffix trick", "POST", "hub.test", false, append([]string{"Origin", "http://hub.test.evil.test"}, json...), 403},
		{"opaque origin", "POST", "hub.test", false, append([]string{"Origin", "null"}, json...), 403},
		{"empty origin", "POST", "hub.test", false, append([]string{"Origin", ""}, json...), 403},
		{"origin with a path", "POST", "hub.test", false, append([]string{"Origin", "http://hub.test/x"}, json...), 403},
		{"origin with user info", "POST", "hub.test", false, append([]string{"Origin", "http://evil@hub.test"}, json...), 403},
		{"javascript origin", "POST", "hub.test", false, append([]string{"Origin", "javascript://hub.test"}, json...), 403},
		{"two origins", "POST", "hub.test", false, append([]string{"Origin", "http://hub.test", "Origin", "http://evil.test"}, json...), 403},
		{"allowed origin", "POST", "hub-internal:8080", false, append([]string{"Origin", "https://hub.example.com"}, json...), 0},
		{"allowed origin, default port spelled", "POST", "hub-internal:8080", false, append([]string{"Origin", "https://hub.example.com:443"}, json...), 0},
		{"allowed name, other scheme", "POST", "hub-internal:8080", false, append([]string{"Origin", "http://hub.example.com"}, json...), 403},
		{"JSON from another site still needs its origin", "DELETE", "hub.test", false, append([]string{"Origin", "http://evil.test"}, json...), 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, "http://"+tc.host+"/v1/workspaces/acme/tokens", nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				r.Header.Add(tc.headers[i], tc.headers[i+1])
			}
			got, _, detail := refuseCrossSite(r, allowed)
			if got != tc.want {
				t.Errorf("refuseCrossSite = %d (%s); want %d", got, detail, tc.want)
			}
			if got != 0 && detail == "" {
				t.Error("a refusal without a sentence")
			}
		})
	}
}

func TestParseOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{" https://Hub.Example.com , http://hub.test:8080 ", []string{"https://hub.example.com", "http://hub.test:8080"}, false},
		{"https://hub.example.com:443,http://hub.test:80,https://hub.test/", []string{"https://hub.example.com", "http://hub.test", "https://hub.test"}, false},
		{"hub.example.com", nil, true},
		{"https://hub.example.com/ui/", nil, true},
		{"ftp://hub.example.com", nil, true},
		{"https://user@hub.example.com", nil, true},
		{"https://hub.example.com?x=1", nil, true},
		{"null", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOrigins(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseOrigins(%q) error = %v; want error %v", tc.in, err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParseOrigins(%q) = %q; want %q", tc.in, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("ParseOrigins(%q)[%d] = %q; want %q", tc.in, i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestMemberRequestsGoThroughTheRule: a refused state-changing request of a
// signed-in member never reaches the handler, and gets JSON with detail.
func TestMemberRequestsGoThroughTheRule(t *testing.T) {
	t.Parallel()
	proxies, err := ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tu := &TrustedUser{Header: "X-Forwarded-User", Proxies: proxies}
	reached := 0
	h := tu.identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	for _, tc := range []struct {
		name   string
		remote string
		user   string
		want   int
		reach  bool
	}{
		{"member's form post", "127.0.0.1:1", "alice", 415, false},
		{"same post without the user header", "127.0.0.1:1", "", 200, true},
		{"same post from an untrusted address", "192.0.2.1:1", "alice", 200, true},
	} {
		reached = 0
		r := httptest.NewRequest("POST", "http://hub.test/v1/workspaces/acme/tokens", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("Content-Type", "text/plain")
		if tc.user != "" {
			r.Header.Set("X-Forwarded-User", tc.user)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != tc.want || (reached == 1) != tc.reach {
			t.Errorf("%s: %d, handler reached %v; want %d, %v", tc.name, rec.Code, reached == 1, tc.want, tc.reach)
		}
		if tc.want == 415 && (rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Body.String(), `"detail":"A signed-in member`)) {
			t.Errorf("%s: refusal %q is not JSON with detail", tc.name, rec.Body.String())
		}
	}
}
