package rest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"tokenauthority/server/rest"
)

// records decodes a JSON log, one record a line.
func records(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, rec)
	}
	return out
}

func TestRequestLogHasNoSecret(t *testing.T) {
	t.Parallel()
	srv, logs := newLoggedServer(t, rest.Config{})

	paths := []struct {
		path       string
		wantStatus int
	}{
		{"/api/v1/tokens/" + knownSecret + "/info?token=" + knownSecret, http.StatusOK},
		{"/api/v1/tokens/" + knownSecret + "x/info", http.StatusUnauthorized},
		{"/api/v1/tokens/" + knownSecret + "/nothing", http.StatusNotFound},
	}
	var sizes []float64
	for _, p := range paths {
		resp := do(t, srv, http.MethodGet, p.path, "", nil)
		if resp.status != p.wantStatus {
			t.Errorf("GET %s: status = %d, want %d", p.path, resp.status, p.wantStatus)
		}
		sizes = append(sizes, float64(len(resp.body)))
	}
	srv.Close() // waits for the handlers, so every record is written

	out := logs.String()
	if strings.Contains(out, knownSecret) || strings.Contains(out, knownSecret[:20]) {
		t.Errorf("log contains the token secret:\n%s", out)
	}
	ignore := cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "time" || k == "duration" })
	want := []map[string]any{
		{"level": "DEBUG", "msg": "http request", "method": "GET", "route": "GET /api/v1/tokens/{token}/info", "status": float64(200), "bytes": sizes[0]},
		{"level": "DEBUG", "msg": "http request", "method": "GET", "route": "GET /api/v1/tokens/{token}/info", "status": float64(401), "bytes": sizes[1]},
		{"level": "DEBUG", "msg": "http request", "method": "GET", "route": "unmatched", "status": float64(404), "bytes": sizes[2]},
	}
	if diff := cmp.Diff(want, records(t, out), ignore); diff != "" {
		t.Errorf("log records mismatch (-want +got):\n%s", diff)
	}
}

func TestAuthorizationReachesService(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"bearer", http.Header{"Authorization": {"Bearer cred-123"}}, "Bearer cred-123"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, http.MethodGet, "/v1/workspaces", "", tt.header)
			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
			}
			if got := resp.object(t)["next_page_token"]; got != tt.want {
				t.Errorf("service saw authorization %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	srv, logs := newLoggedServer(t, rest.Config{})

	resp := do(t, srv, http.MethodDelete, "/v1/workspaces/acme", "", nil)
	if resp.status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.status)
	}
	want := map[string]any{
		"code":    float64(13),
		"message": "internal error",
		"detail":  "The server failed while handling the request.",
		"details": []any{},
	}
	if diff := cmp.Diff(want, resp.object(t)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}

	if resp := do(t, srv, http.MethodGet, "/healthz", "", nil); resp.status != http.StatusOK {
		t.Errorf("after a panic, /healthz status = %d, want 200", resp.status)
	}
	srv.Close()

	var panics, errorRequests int
	for _, rec := range records(t, logs.String()) {
		switch {
		case rec["msg"] == "panic while serving a request":
			panics++
			if stack, _ := rec["stack"].(string); !strings.Contains(stack, "DeleteWorkspace") {
				t.Errorf("panic record's stack does not show the panicking method:\n%s", stack)
			}
			if rec["route"] != "DELETE /v1/workspaces/{workspace_id}" {
				t.Errorf("panic record's route = %v", rec["route"])
			}
		case rec["msg"] == "http request" && rec["level"] == "ERROR":
			errorRequests++
		}
	}
	if panics != 1 || errorRequests != 1 {
		t.Errorf("log has %d panic and %d error request records, want 1 and 1:\n%s", panics, errorRequests, logs)
	}
}

func TestExtraRoutes(t *testing.T) {
	t.Parallel()
	authz := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Workspace-Id", "acme")
		w.WriteHeader(http.StatusNoContent)
	})
	srv := newServer(t, rest.Config{Routes: map[string]http.Handler{"/v1/authz": authz}})

	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		resp := do(t, srv, method, "/v1/authz", "", nil)
		if resp.status != http.StatusNoContent || resp.header.Get("X-Workspace-Id") != "acme" {
			t.Errorf("%s /v1/authz = %d %v, want the extra route's 204", method, resp.status, resp.header)
		}
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	ok := http.NotFoundHandler()
	tests := []struct {
		name    string
		cfg     rest.Config
		nilSelf bool
		want    error
	}{
		{"route taken by the facade", rest.Config{Routes: map[string]http.Handler{"GET /healthz": ok}}, false, rest.ErrRouteConflict},
		{"route clashing in the mux", rest.Config{Routes: map[string]http.Handler{"/healthz": ok, "GET /{x}": ok}}, false, rest.ErrRouteConflict},
		{"missing service", rest.Config{}, true, rest.ErrMissingService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s self
			var err error
			if tt.nilSelf {
				_, err = rest.New(context.Background(), tt.cfg, tokens{}, workspaces{}, nil)
			} else {
				_, err = rest.New(context.Background(), tt.cfg, tokens{}, workspaces{}, s)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("New() error = %v, want %v", err, tt.want)
			}
		})
	}
}
