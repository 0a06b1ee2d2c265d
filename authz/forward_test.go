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
		wantIDs    bool        // identity headers in the answer
		detail     string      // substring of the denial's detail
		also       [][2]string // headers added after headers, for repeats
	}{
		{"nginx style", "GET", map[string]string{"X-Original-URI": "/zoo/v1/inference/acme/priv/run?stream=1", "X-Original-Method": "POST", "token": own}, 200, true, "", nil},
		{"traefik style", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/inference/acme/priv/run", "X-Forwarded-Method": "POST", "Authorization": "Bearer " + own}, 200, true, "", nil},
		{"caddy forwards the method", "POST", map[string]string{"X-Forwarded-Uri": "/zoo/v1/inference/acme/priv/run", "Authorization": "Bearer " + own}, 200, true, "", nil},
		{"HEAD", "HEAD", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/priv/m", "token": own}, 200, true, "", nil},
		{"anonymous public download", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m", "X-Workspace-Id": "acme"}, 200, false, "", nil},
		{"both URI families", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m", "X-Forwarded-Uri": "/zoo/v1/public/models/acme/priv/m", "token": own}, 403, false, "both X-Original-* and X-Forwarded-*", nil},
		{"URI of one family, method of the other", "GET", map[string]string{"X-Original-URI": "/zoo/v1/inference/acme/priv/run", "X-Forwarded-Method": "POST", "token": own}, 403, false, "both X-Original-* and X-Forwarded-*", nil},
		{"both method families", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/inference/acme/priv/run", "X-Original-Method": "GET", "X-Forwarded-Method": "POST", "token": own}, 403, false, "both X-Original-* and X-Forwarded-*", nil},
		{"empty header of the other family", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/public/models/acme/pub/m", "X-Original-URI": ""}, 403, false, "both X-Original-* and X-Forwarded-*", nil},
		{"two X-Original-URI", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m"}, 403, false, "X-Original-Uri more than once", [][2]string{{"X-Original-URI", "/zoo/v1/public/models/acme/priv/m"}}},
		{"two X-Forwarded-Uri", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/public/models/acme/pub/m"}, 403, false, "X-Forwarded-Uri more than once", [][2]string{{"X-Forwarded-Uri", "/zoo/v1/public/models/acme/pub/m"}}},
		{"two X-Forwarded-Method", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/public/models/acme/pub/m", "X-Forwarded-Method": "GET"}, 403, false, "X-Forwarded-Method more than once", [][2]string{{"X-Forwarded-Method", "POST"}}},
		{"two X-Original-Method", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m", "X-Original-Method": "GET"}, 403, false, "X-Original-Method more than once", [][2]string{{"x-original-method", "GET"}}},
		{"fragment", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub#/../../acme/priv/m"}, 403, false, "'#'", nil},
		{"path parameter", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/..;/priv/m"}, 403, false, "';'", nil},
		{"double encoding", "GET", map[string]string{"X-Forwarded-Uri": "/zoo/v1/public/models/acme/pub/%2523/m"}, 403, false, "double encoding", nil},
		{"encoded non-ASCII", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/%ef%bc%8e%ef%bc%8e/priv/m"}, 403, false, "non-ASCII", nil},
		{"gen-delim", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/[m]"}, 403, false, "not allowed in a path", nil},
		{"dots and space", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/..%20/priv/m"}, 403, false, "dot segment", nil},
		{"basic auth is no token", "GET", map[string]string{"X-Original-URI": "/zoo/v1/inference/acme/pub/run", "Authorization": "Basic " + own}, 401, false, "token is required", nil},
		{"no original URI", "GET", map[string]string{"token": own}, 403, false, "X-Original-URI", nil},
		{"unmatched path", "GET", map[string]string{"X-Original-URI": "/v1/workspaces", "token": own}, 403, false, "no authorization rule", nil},
		{"dot dot", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/../../../inference/acme/priv/x", "token": own}, 403, false, "dot segment", nil},
		{"double slash", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models//acme/priv/x", "token": own}, 403, false, "empty segment", nil},
		{"encoded slash", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme%2fpriv/x", "token": own}, 403, false, "encoded slash", nil},
		{"very long", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/" + strings.Repeat("x", 5000), "token": own}, 403, false, "longer than", nil},
		{"expired", "GET", map[string]string{"X-Original-URI": "/zoo/v1/public/models/acme/pub/m", "token": f.Secrets["expired"]}, 401, false, "expired", nil},
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
			for _, kv := range tt.also {
				req.Header.Add(kv[0], kv[1])
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
