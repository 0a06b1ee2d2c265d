package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/server/rest"
)

func TestServiceErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})

	tests := []struct {
		id         string
		wantStatus int
		wantCode   float64
		wantMsg    string
	}{
		{"not-found", http.StatusNotFound, 5, "Workspace not-found does not exist."},
		{"unauthn", http.StatusUnauthorized, 16, "A service credential is required."},
		{"invalid", http.StatusBadRequest, 3, "The workspace id must match [a-z0-9][a-z0-9-]{0,62}."},
		{"forbidden", http.StatusForbidden, 7, "The credential's role may not read workspaces."},
		{"exists", http.StatusConflict, 6, "Workspace exists already exists."},
		{"unavailable", http.StatusServiceUnavailable, 14, "The store is closed."},
		{"deadline", http.StatusGatewayTimeout, 4, "The request took too long."},
		{"unimplemented", http.StatusNotImplemented, 12, "Not implemented."},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, http.MethodGet, "/v1/workspaces/"+tt.id, "", nil)
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tt.wantStatus)
			}
			if got, want := resp.header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			want := map[string]any{
				"code":    tt.wantCode,
				"message": tt.wantMsg,
				"detail":  tt.wantMsg,
				"details": []any{},
			}
			if diff := cmp.Diff(want, resp.object(t)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			wantAuth := ""
			if tt.wantStatus == http.StatusUnauthorized {
				wantAuth = "Bearer"
			}
			if got := resp.header.Get("WWW-Authenticate"); got != wantAuth {
				t.Errorf("WWW-Authenticate = %q, want %q", got, wantAuth)
			}
		})
	}
}

func TestErrorDetails(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	resp := do(t, srv, http.MethodGet, "/v1/workspaces/with-details", "", nil)
	want := map[string]any{
		"code":    float64(3),
		"message": "The request has invalid fields.",
		"detail":  "The request has invalid fields.",
		"details": []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.BadRequest",
			"field_violations": []any{map[string]any{
				"field":       "workspace_id",
				"description": "must not be empty",
			}},
		}},
	}
	if resp.status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.status)
	}
	if diff := cmp.Diff(want, resp.object(t)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestNonStatusErrorIsNotSentToClient(t *testing.T) {
	t.Parallel()
	srv, logs := newLoggedServer(t, rest.Config{})
	resp := do(t, srv, http.MethodGet, "/v1/workspaces/not-a-status", "", nil)
	srv.Close()

	if resp.status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.status)
	}
	want := map[string]any{
		"code":    float64(2),
		"message": "unknown error",
		"detail":  "The server failed to handle the request.",
		"details": []any{},
	}
	if diff := cmp.Diff(want, resp.object(t)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "page 7") {
		t.Errorf("log does not hold the error for the operator:\n%s", logs)
	}
}

func TestRequestBodyErrors(t *testing.T) {
	t.Parallel()
	const limit = 128
	srv := newServer(t, rest.Config{MaxBodyBytes: limit})

	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   float64
		wantDetail string
	}{
		{"malformed JSON", `{"workspace_id": "acme",`, http.StatusBadRequest, 3, "The request body is not valid JSON"},
		{"not JSON at all", `workspace_id=acme`, http.StatusBadRequest, 3, "The request body is not valid JSON"},
		{"unknown field", `{"workspace_id": "acme", "colour": "red"}`, http.StatusBadRequest, 3, `unknown field "colour"`},
		{"wrong type", `{"workspace_id": 7}`, http.StatusBadRequest, 3, "The request body is not valid JSON for CreateWorkspaceRequest: field workspace_id must be a string, not a number."},
		{"over the limit", `{"workspace_id": "acme", "display_name": "` + strings.Repeat("a", limit) + `"}`, http.StatusRequestEntityTooLarge, 8, "limit of 128 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, http.MethodPost, "/v1/workspaces", tt.body, nil)
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			got := resp.object(t)
			if got["code"] != tt.wantCode {
				t.Errorf("code = %v, want %v", got["code"], tt.wantCode)
			}
			if detail, _ := got["detail"].(string); !strings.Contains(detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", detail, tt.wantDetail)
			}
			if _, ok := got["message"].(string); !ok {
				t.Errorf("message = %v, want a string", got["message"])
			}
		})
	}

	t.Run("at the limit", func(t *testing.T) {
		t.Parallel()
		body := `{"workspace_id": "acme", "display_name": "`
		body += strings.Repeat("a", limit-len(body)-2) + `"}`
		resp := do(t, srv, http.MethodPost, "/v1/workspaces", body, nil)
		if resp.status != http.StatusOK {
			t.Errorf("status = %d for a body of exactly %d bytes, want 200; body %s", resp.status, len(body), resp.body)
		}
	})
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantCode   float64
		wantDetail string
		wantAllow  string
	}{
		{"unknown path", http.MethodGet, "/nowhere", http.StatusNotFound, 5, "There is no endpoint at this path", ""},
		{"doubled slash, answered with JSON rather than a redirect", http.MethodGet, "/v1//nowhere", http.StatusNotFound, 5, "There is no endpoint at this path", ""},
		{"dot segment", http.MethodGet, "/v1/workspaces/../nowhere", http.StatusNotFound, 5, "There is no endpoint at this path", ""},
		{"unknown API path", http.MethodGet, "/v1/workspaces/acme/gadgets", http.StatusNotFound, 5, "There is no endpoint at this path", ""},
		{"wrong method on a gateway route", http.MethodPut, "/v1/workspaces", http.StatusMethodNotAllowed, 12, "does not accept the PUT method", ""},
		{"wrong method on a plain route", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, 12, "does not accept the POST method", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, tt.method, tt.path, "", nil)
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tt.wantStatus)
			}
			got := resp.object(t)
			if got["code"] != tt.wantCode {
				t.Errorf("code = %v, want %v", got["code"], tt.wantCode)
			}
			if detail, _ := got["detail"].(string); !strings.Contains(detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", detail, tt.wantDetail)
			}
			if got := resp.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

// TestErrorBodiesAreNotHTMLEscaped: the bodies are read in terminals, where
// \u003ccredential\u003e is noise.
func TestErrorBodiesAreNotHTMLEscaped(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	resp := do(t, srv, http.MethodGet, "/v1/workspaces/html", "", nil)
	const want = `Send \"authorization: Bearer <credential>\" & retry.`
	if !strings.Contains(string(resp.body), `"detail":"`+want+`"`) {
		t.Errorf("body = %s; want the detail %s unescaped", resp.body, want)
	}
}

// TestWellKnownTypeErrors: a date where a timestamp is expected, or a
// number where a duration is, gets a sentence saying what to send.
func TestWellKnownTypeErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	resp := do(t, srv, http.MethodPost, "/v1/workspaces/acme/tokens", `{"user_id":"alice","expire_time":"2027-12-31"}`, nil)
	if resp.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", resp.status, resp.body)
	}
	const want = `The request body is not valid JSON for CreateTokenRequest: "2027-12-31" is not an RFC 3339 time; send a time such as "2027-12-31T00:00:00Z".`
	if got := resp.object(t)["detail"]; got != want {
		t.Errorf("detail = %q\nwant     %q", got, want)
	}
}

// TestDecodeErrorsNameTheFieldNotTheParser: a body or query parameter the
// gateway cannot decode gets 400 with a message and detail that name the
// request message, the field and what it needs, never the parser's
// position or function names, and never repeat a string value (which
// could be a secret sent in the wrong field).
func TestDecodeErrorsNameTheFieldNotTheParser(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	const secret = "tka_0123456789abcdef"
	tests := []struct {
		name, method, path, body, want string
	}{
		{"number for a string", http.MethodPost, "/v1/workspaces", `{"workspace_id": 7}`,
			"The request body is not valid JSON for CreateWorkspaceRequest: field workspace_id must be a string, not a number."},
		{"list for a string", http.MethodPost, "/v1/workspaces/acme/tokens", `{"user_id": ["alice"]}`,
			"The request body is not valid JSON for CreateTokenRequest: field user_id must be a string, not a list."},
		{"string for a list", http.MethodPost, "/v1/tokens:reportLeaked", `{"secrets": "` + secret + `"}`,
			"The request body is not valid JSON for ReportLeakedTokensRequest: found a string where a field takes another kind of value (a list, an object or a single value)."},
		{"number in a list of strings", http.MethodPost, "/v1/tokens:reportLeaked", `{"secrets": [1]}`,
			"The request body is not valid JSON for ReportLeakedTokensRequest: field secrets must be a string, not a number."},
		{"unknown enum value", http.MethodPost, "/v1/workspaces/acme/tokens", `{"user_id": "alice", "operations": ["` + secret + `"]}`,
			"The request body is not valid JSON for CreateTokenRequest: field operations takes one of OPERATION_DOWNLOAD, OPERATION_CLOUD_INFERENCE, not a string."},
		{"field twice", http.MethodPost, "/v1/workspaces", `{"workspace_id": "a", "workspace_id": "b"}`,
			`The request body is not valid JSON for CreateWorkspaceRequest: field "workspace_id" is given twice.`},
		{"cut short", http.MethodPost, "/v1/workspaces", `{"workspace_id": "acme",`,
			"The request body is not valid JSON: it ends before the JSON does."},
		{"query: not a number", http.MethodGet, "/v1/workspaces/acme/tokens?page_size=" + secret, "",
			"The query parameter page_size must be a whole number."},
		{"query: out of range", http.MethodGet, "/v1/workspaces/acme/tokens?page_size=99999999999999", "",
			"The query parameter page_size must be a whole number in range."},
		{"query: not a boolean", http.MethodGet, "/v1/workspaces/acme/tokens?show_revoked=maybe", "",
			"The query parameter show_revoked must be true or false."},
		{"query: not a time", http.MethodGet, "/v1/workspaces/acme/tokens?expire_before=tomorrow", "",
			`The query parameter expire_before must be an RFC 3339 time such as "2027-12-31T00:00:00Z".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, tt.method, tt.path, tt.body, nil)
			if resp.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", resp.status, resp.body)
			}
			got := resp.object(t)
			if got["detail"] != tt.want || got["message"] != tt.want {
				t.Errorf("message %q, detail %q\nwant both %q", got["message"], got["detail"], tt.want)
			}
			for _, internal := range []string{"proto:", "line 1", "strconv", "Parse", "syntax error", secret, "2006-01-02"} {
				if strings.Contains(string(resp.body), internal) {
					t.Errorf("body %s holds %q", resp.body, internal)
				}
			}
		})
	}
}
