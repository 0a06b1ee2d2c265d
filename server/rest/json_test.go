package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/server/rest"
)

func TestResponseJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   map[string]any
	}{
		{
			name:   "response_body unwraps the workspace, unset fields present",
			method: http.MethodGet,
			path:   "/v1/workspaces/acme",
			want: map[string]any{
				"workspace_id": "acme",
				"display_name": "",
				"create_time":  "2026-01-02T03:04:05Z",
				"token_policy": nil,
			},
		},
		{
			name:   "token: snake_case keys, null messages, enum names",
			method: http.MethodGet,
			path:   "/v1/workspaces/acme/tokens/tok1",
			want: map[string]any{
				"token_id":              "tok1",
				"workspace_id":          "acme",
				"user_id":               "",
				"description":           "",
				"masked_key":            "",
				"create_time":           "2026-01-02T03:04:05Z",
				"expire_time":           nil,
				"state":                 "TOKEN_STATE_ACTIVE",
				"revoke_time":           nil,
				"replaced_by":           "",
				"last_used_time":        nil,
				"operations":            []any{},
				"zoos":                  []any{},
				"disabled":              false,
				"revoke_reason":         "REVOKE_REASON_UNSPECIFIED",
				"replaces":              "",
				"family_id":             "",
				"effective_expire_time": nil,
				"created_for_seed":      false,
			},
		},
		{
			name:   "SDK token info keys, never-expires marker",
			method: http.MethodGet,
			path:   "/api/v1/tokens/" + knownSecret + "/info",
			want: map[string]any{
				"description": "laptop",
				"created_at":  "2026-01-02T03:04:05Z",
				"expiration":  "0001-01-01T00:00:00Z",
				"user":        "alice",
				"space":       "",
			},
		},
		{
			name:   "custom verb route",
			method: http.MethodPost,
			path:   "/v1/access:check",
			body:   `{"secret": "", "zoo": "acme/detectors", "operation": "OPERATION_DOWNLOAD"}`,
			want: map[string]any{
				"allowed":      true,
				"reason":       "REASON_PUBLIC",
				"workspace_id": "acme/detectors",
				"token_id":     "",
				"user_id":      "",
				"expire_time":  nil,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, tt.method, tt.path, tt.body, nil)
			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
			}
			if got, want := resp.header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if diff := cmp.Diff(tt.want, resp.object(t)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestJSONSpellings(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	want := map[string]any{
		"workspace_id": "acme",
		"display_name": "Acme Inc.",
		"create_time":  "2026-01-02T03:04:05Z",
		"token_policy": nil,
	}
	tests := []struct {
		name        string
		body        string
		contentType string
	}{
		{"proto names", `{"workspace_id": "acme", "display_name": "Acme Inc."}`, "application/json"},
		{"lowerCamelCase", `{"workspaceId": "acme", "displayName": "Acme Inc."}`, "application/json"},
		{"mixed", `{"workspace_id": "acme", "displayName": "Acme Inc."}`, "application/json"},
		{"no content type", `{"workspace_id": "acme", "display_name": "Acme Inc."}`, "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, http.MethodPost, "/v1/workspaces", tt.body, http.Header{"Content-Type": {tt.contentType}})
			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
			}
			if diff := cmp.Diff(want, resp.object(t)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
