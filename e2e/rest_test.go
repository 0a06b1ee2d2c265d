package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// curl runs the real curl against the server and decodes the JSON body; it
// returns the HTTP status too.
func curl(t *testing.T, p *proc, args ...string) (map[string]any, int) {
	t.Helper()
	out, _ := run(t, false, "curl", append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...)
	i := strings.LastIndexByte(out, '\n')
	body, code := out[:i], out[i+1:]
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("curl %v: body is not a JSON object: %v\n%s", args, err, body)
	}
	var status int
	if err := json.Unmarshal([]byte(code), &status); err != nil {
		t.Fatalf("curl %v: status %q", args, code)
	}
	return m, status
}

// TestCurlWalkthrough is the README's curl walkthrough: everything grpcurl
// can do, over REST.
func TestCurlWalkthrough(t *testing.T) {
	t.Parallel()
	p := startServer(t, t.TempDir())
	u := "http://" + openapiProxy(t, p) // checks each exchange against /openapi.json
	h := "Authorization: Bearer " + p.admin
	want := func(m map[string]any, status, wantStatus int, what string) map[string]any {
		t.Helper()
		if status != wantStatus {
			t.Fatalf("%s: status %d %v; want %d", what, status, m, wantStatus)
		}
		return m
	}

	m, s := curl(t, p, "-H", h, "-d", `{"workspace_id":"acme","display_name":"Acme Corp"}`, u+"/v1/workspaces")
	if want(m, s, 200, "create workspace")["workspace_id"] != "acme" {
		t.Errorf("create workspace = %v; want the Workspace itself with snake_case keys", m)
	}
	m, s = curl(t, p, "-H", h, "-d", `{"user_id":"alice"}`, u+"/v1/workspaces/acme/members")
	want(m, s, 200, "add member")
	m, s = curl(t, p, "-H", h, "-d", `{"zoo_id":"detectors","visibility":"VISIBILITY_PRIVATE"}`, u+"/v1/workspaces/acme/zoos")
	if want(m, s, 200, "create zoo")["visibility"] != "VISIBILITY_PRIVATE" {
		t.Errorf("create zoo = %v", m)
	}
	m, s = curl(t, p, "-H", h, "-d", `{"user_id":"alice","description":"laptop","expire_time":"2099-12-31T00:00:00Z"}`, u+"/v1/workspaces/acme/tokens")
	want(m, s, 200, "create token")
	secret, _ := m["secret"].(string)
	id, _ := m["token"].(map[string]any)["token_id"].(string)
	if !strings.HasPrefix(secret, "tka_") || id == "" {
		t.Fatalf("create token = %v", m)
	}

	m, s = curl(t, p, "-H", h, u+"/v1/workspaces/acme/tokens")
	want(m, s, 200, "list tokens")
	raw, _ := json.Marshal(m)
	if strings.Contains(string(raw), secret) || !strings.Contains(string(raw), `"masked_key"`) || !strings.Contains(string(raw), `"next_page_token"`) {
		t.Errorf("list tokens = %s; want masked keys, next_page_token present, no secret", raw)
	}
	m, s = curl(t, p, "-H", h, u+"/v1/workspaces/acme/tokens/"+id)
	if want(m, s, 200, "get token")["token_id"] != id {
		t.Errorf("get token = %v; want the Token itself", m)
	}
	m, s = curl(t, p, "-H", h, "-d", `{"secret":"`+secret+`"}`, u+"/v1/tokens:validate")
	if want(m, s, 200, "validate")["valid"] != true {
		t.Errorf("validate = %v", m)
	}
	m, s = curl(t, p, "-H", h, "-d", `{"secret":"`+secret+`","zoo":"acme/detectors","operation":"OPERATION_DOWNLOAD"}`, u+"/v1/access:check")
	if want(m, s, 200, "check access")["allowed"] != true {
		t.Errorf("check access = %v", m)
	}
	m, s = curl(t, p, "-H", h, "-X", "POST", u+"/v1/workspaces/acme/tokens/"+id+":reveal")
	if want(m, s, 200, "reveal")["secret"] != secret {
		t.Errorf("reveal returned another secret")
	}
	m, s = curl(t, p, "-H", h, "-X", "DELETE", u+"/v1/workspaces/acme/tokens/"+id)
	if want(m, s, 200, "revoke")["state"] != "TOKEN_STATE_REVOKED" {
		t.Errorf("revoke = %v", m)
	}
	m, s = curl(t, p, "-H", h, "-d", `{"secret":"`+secret+`"}`, u+"/v1/tokens:validate")
	if want(m, s, 200, "validate revoked")["valid"] != false || m["reason"] != "REASON_REVOKED" {
		t.Errorf("validate after revoke = %v", m)
	}

	// Errors: JSON with detail, code and message, and the usual statuses.
	errs := []struct {
		name   string
		args   []string
		status int
	}{
		{"no credential", []string{u + "/v1/workspaces"}, 401},
		{"wrong credential", []string{"-H", "Authorization: Bearer tkas_nope", u + "/v1/workspaces"}, 401},
		{"malformed JSON", []string{"-H", h, "-d", `{"workspace_id":`, u + "/v1/workspaces"}, 400},
		{"invalid id", []string{"-H", h, "-d", `{"workspace_id":"Not Valid"}`, u + "/v1/workspaces"}, 400},
		{"exists", []string{"-H", h, "-d", `{"workspace_id":"acme"}`, u + "/v1/workspaces"}, 409},
		{"missing", []string{"-H", h, u + "/v1/workspaces/nope"}, 404},
		{"other workspace's token", []string{"-H", h, u + "/v1/workspaces/other/tokens/" + id}, 404},
		{"not a member", []string{"-H", h, "-d", `{"user_id":"bob"}`, u + "/v1/workspaces/acme/tokens"}, 400},
		{"unknown path", []string{"-H", h, u + "/v1/nothing-here"}, 404},
		{"body too large", []string{"-H", h, "-d", `{"workspace_id":"` + strings.Repeat("a", 70<<10) + `"}`, u + "/v1/workspaces"}, 413},
	}
	for _, e := range errs {
		m, s := curl(t, p, e.args...)
		detail, _ := m["detail"].(string)
		if s != e.status || detail == "" || m["code"] == nil || m["message"] == nil {
			t.Errorf("%s: %d %v; want %d with detail, code and message", e.name, s, m, e.status)
		}
	}

	// Operations endpoints.
	for _, path := range []string{"/healthz", "/readyz"} {
		m, s := curl(t, p, u+path)
		want(m, s, 200, path)
	}
	doc, s := curl(t, p, u+"/openapi.json")
	paths, _ := want(doc, s, 200, "openapi")["paths"].(map[string]any)
	for _, path := range []string{"/v1/workspaces", "/v1/workspaces/{workspace_id}/tokens", "/v1/tokens:validate", "/v1/access:check", "/api/v1/tokens/{token}/info", "/api/v1/tokens/{token}/refresh", "/api/v1/tokens-seed/pick"} {
		if _, ok := paths[path]; !ok {
			t.Errorf("openapi.json lacks %s", path)
		}
	}
	swagger, s := curl(t, p, u+"/swagger.json")
	if want(swagger, s, 200, "swagger")["swagger"] != "2.0" {
		t.Errorf("swagger.json is not Swagger 2.0: swagger = %v", swagger["swagger"])
	}

	// Forward auth, as nginx asks it: the revoked token is refused, and so is
	// a path no rule knows.
	m, s = curl(t, p, "-H", "X-Original-URI: /zoo/v1/public/models/acme/detectors/m.bin", "-H", "token: "+secret, u+"/v1/authz")
	if want(m, s, 401, "authz with a revoked token")["reason"] != "REASON_REVOKED" {
		t.Errorf("authz with a revoked token = %v", m)
	}
	m, s = curl(t, p, "-H", "X-Original-URI: /elsewhere", u+"/v1/authz")
	if want(m, s, 403, "authz of an unknown path")["detail"] == "" {
		t.Errorf("authz of an unknown path = %v; want a detail", m)
	}

	out, _ := run(t, false, "curl", "-sS", u+"/metrics")
	for _, metric := range []string{"tokenauthority_requests_total", "tokenauthority_decisions_total", "tokenauthority_tokens_stored", "tokenauthority_commit_batch_size"} {
		if !strings.Contains(out, metric) {
			t.Errorf("/metrics lacks %s", metric)
		}
	}
	if strings.Contains(p.logs.String(), secret) {
		t.Errorf("server log contains the secret")
	}
}
