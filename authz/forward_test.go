package authz_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"tokenauthority/internal/teststack"
)

// TestForwardAuth drives /v1/authz over real HTTP through the REST facade
// the way nginx, Caddy and Traefik call it.
func TestForwardAuth(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	own := f.Secrets["own"]
	tests := []struct {
		name       string
		method     string
		headers    map[string]string
		wantStatus int
		wantIDs    bool   // identity headers in the answer
		detail     string // substring of the denial's detail
	}{
		{"nginx style", "GET", map[string]string{"X-Original-URI": "/zoo/v1/inference/acme/priv/run?stream=1", "X-Original-Method": "POST", "token": own}, 200, true, ""},
		{"traefik style", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/inference/acme/priv/run", "X-Forwarded-Method": "POST", "Authorization": "Bearer " + own}, 200, true, ""},
		{"caddy forwards the method", "POST", map[string]string{"X-Forwarded-Uri": "/zoo/v1/inference/acme/priv/run", "Authorization": "Bearer " + own}, 200, true, ""},
		{"HEAD", "HEAD", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/priv/m", "token": own}, 200, true, ""},
		{"anonymous public download", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m", "X-Workspace-Id": "acme"}, 200, false, ""},
		{"X-Original-URI wins", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/priv/m", "X-Forwarded-Uri": "/zoo/v1/public/models/acme/pub/m"}, 403, false, "acme/priv"},
		{"basic auth is no token", "GET", map[string]string{"X-Original-URI": "/zoo/v1/inference/acme/pub/run", "Authorization": "Basic " + own}, 401, false, "token is required"},
		{"no original URI", "GET", map[string]string{"token": own}, 403, false, "X-Original-URI"},
		{"unmatched path", "GET", map[string]string{"X-Original-URI": "/v1/workspaces", "token": own}, 403, false, "no authorization rule"},
		{"dot dot", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/../../../inference/acme/priv/x", "token": own}, 403, false, "dot segment"},
		{"double slash", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models//acme/priv/x", "token": own}, 403, false, "empty segment"},
		{"encoded slash", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme%2fpriv/x", "token": own}, 403, false, "encoded slash"},
		{"very long", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/" + strings.Repeat("x", 5000), "token": own}, 403, false, "longer than"},
		{"expired", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m", "token": f.Secrets["expired"]}, 401, false, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tt.method, s.HTTPURL+"/v1/authz", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d %s; want %d", resp.StatusCode, body, tt.wantStatus)
			}
			ws := resp.Header.Get("X-Workspace-Id")
			if tt.wantIDs != (ws == "acme" && resp.Header.Get("X-User-Id") == "alice" && resp.Header.Get("X-Token-Id") == f.TokenIDs["own"]) {
				t.Errorf("identity headers %q/%q/%q; want them: %v", ws, resp.Header.Get("X-User-Id"), resp.Header.Get("X-Token-Id"), tt.wantIDs)
			}
			if !tt.wantIDs && ws != "" {
				t.Errorf("X-Workspace-Id = %q on an answer without a valid token", ws)
			}
			if tt.wantStatus == 200 || tt.method == "HEAD" {
				return
			}
			var b struct{ Detail, Reason string }
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if !strings.Contains(b.Detail, tt.detail) {
				t.Errorf("detail %q; want it to contain %q", b.Detail, tt.detail)
			}
			if got := resp.Header.Get("X-Authz-Error"); got != string(body) {
				t.Errorf("X-Authz-Error = %q; want the body %q", got, body)
			}
			if strings.Contains(string(body), own) {
				t.Error("the denial repeats the token")
			}
		})
	}
}
