package daemon_test

import (
	"strings"
	"testing"

	"tokenauthority/internal/teststack"
)

// TestRESTLifecycleMethods drives roll, update, scopes and the workspace
// token policy over REST through the gateway of an in-process daemon,
// including bad input.
func TestRESTLifecycleMethods(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	d := teststack.RunDaemon(t, cfg)
	call := d.REST().JSON
	must := func(method, path, body string) map[string]any {
		t.Helper()
		code, m := call(method, path, body)
		if code != 200 {
			t.Fatalf("%s %s = %d %v", method, path, code, m)
		}
		return m
	}
	must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`)
	must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`)
	must("POST", "/v1/workspaces/acme/zoos", `{"zoo_id":"pub","visibility":"VISIBILITY_PUBLIC"}`)

	// The workspace token policy, by a subfield mask the gateway infers
	// from the body.
	ws := must("PATCH", "/v1/workspaces/acme", `{"token_policy":{"max_lifetime":"86400s","default_lifetime":"3600s"}}`)
	if p, _ := ws["token_policy"].(map[string]any); p["max_lifetime"] != "86400s" || p["default_lifetime"] != "3600s" {
		t.Errorf("PATCH workspace = %v; want the policy set", ws)
	}
	// lowerCamelCase bodies are accepted too, and give the same mask.
	ws = must("PATCH", "/v1/workspaces/acme", `{"tokenPolicy":{"requireExpiry":true}}`)
	if p, _ := ws["token_policy"].(map[string]any); p["require_expiry"] != true || p["max_lifetime"] != "86400s" {
		t.Errorf("PATCH workspace in lowerCamelCase = %v; want require_expiry added to the policy", ws)
	}
	ws = must("PATCH", "/v1/workspaces/acme?update_mask=display_name", `{"display_name":"Acme","token_policy":{}}`)
	if ws["display_name"] != "Acme" || ws["token_policy"] == nil {
		t.Errorf("PATCH display_name only = %v; want the policy kept", ws)
	}

	// Scopes at creation; the policy's default lifetime applies.
	created := must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"ci","operations":["OPERATION_CLOUD_INFERENCE"],"zoos":["acme/pub"]}`)
	tok := created["token"].(map[string]any)
	id, secret := tok["token_id"].(string), created["secret"].(string)
	if tok["expire_time"] == nil {
		t.Errorf("created token %v; want the default lifetime's expiry", tok)
	}
	check := must("POST", "/v1/access:check", `{"secret":"`+secret+`","zoo":"acme/pub","operation":"OPERATION_DOWNLOAD"}`)
	if check["allowed"] != false || check["reason"] != "REASON_OUT_OF_SCOPE" {
		t.Errorf("download with an inference-only token = %v; want REASON_OUT_OF_SCOPE", check)
	}

	// Disable and enable with PATCH (mask from the query, then inferred).
	up := must("PATCH", "/v1/workspaces/acme/tokens/"+id+"?update_mask=disabled", `{"disabled":true,"description":"not in the mask"}`)
	if up["state"] != "TOKEN_STATE_DISABLED" || up["description"] != "ci" {
		t.Errorf("PATCH disabled = %v; want DISABLED, description unchanged", up)
	}
	v := must("POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`)
	if v["valid"] != false || v["reason"] != "REASON_DISABLED" {
		t.Errorf("validate a disabled token = %v", v)
	}
	if code, info := call("GET", "/api/v1/tokens/"+secret+"/info", ""); code != 401 || !strings.Contains(info["detail"].(string), "disabled") {
		t.Errorf("SDK info with a disabled token = %d %v; want 401 saying disabled", code, info)
	}
	if up := must("PATCH", "/v1/workspaces/acme/tokens/"+id, `{"disabled":false}`); up["state"] != "TOKEN_STATE_ACTIVE" {
		t.Errorf("PATCH enable = %v", up)
	}

	// Roll with a grace period.
	rolled := must("POST", "/v1/workspaces/acme/tokens/"+id+":roll", `{"grace":"600s"}`)
	next := rolled["token"].(map[string]any)
	if next["replaces"] != id || next["family_id"] != id || rolled["secret"] == "" {
		t.Errorf("roll = %v; want a new token replacing %s", rolled, id)
	}
	old := must("GET", "/v1/workspaces/acme/tokens/"+id, "")
	if old["replaced_by"] != next["token_id"] || old["revoke_time"] == nil || old["state"] != "TOKEN_STATE_ACTIVE" {
		t.Errorf("old token after roll = %v; want replaced, revoke scheduled, still active", old)
	}
	// A second roll of the same token revokes the family.
	if code, m := call("POST", "/v1/workspaces/acme/tokens/"+id+":roll", `{}`); code != 400 && code != 409 && code != 412 {
		t.Errorf("second roll = %d %v; want a failed precondition", code, m)
	} else if !strings.Contains(m["detail"].(string), "family") {
		t.Errorf("second roll detail = %v; want it to say the family was revoked", m["detail"])
	}
	if v := must("POST", "/v1/tokens:validate", `{"secret":"`+rolled["secret"].(string)+`"}`); v["reason"] != "REASON_REVOKED" {
		t.Errorf("new token after reuse = %v; want REVOKED", v)
	}

	// Bad input: status and a detail naming the field.
	fresh := must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`)["token"].(map[string]any)["token_id"].(string)
	bad := []struct {
		name, method, path, body string
		status                   int
		says                     string
	}{
		{"grace too long", "POST", "/v1/workspaces/acme/tokens/" + fresh + ":roll", `{"grace":"700000s"}`, 400, "grace"},
		{"grace not a duration", "POST", "/v1/workspaces/acme/tokens/" + fresh + ":roll", `{"grace":"soon"}`, 400, ""},
		{"roll through another workspace", "POST", "/v1/workspaces/beta/tokens/" + fresh + ":roll", `{}`, 404, ""},
		{"unknown mask path", "PATCH", "/v1/workspaces/acme/tokens/" + fresh + "?update_mask=user_id", `{"user_id":"eve"}`, 400, "user_id"},
		{"expiry beyond the policy", "PATCH", "/v1/workspaces/acme/tokens/" + fresh + "?update_mask=expire_time", `{"expire_time":"2999-01-01T00:00:00Z"}`, 400, "expire_time"},
		{"bad zoo scope", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","zoos":["pub"]}`, 400, "zoos"},
		{"bad operation scope", "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","operations":["OPERATION_UNSPECIFIED"]}`, 400, "operations"},
		{"policy over its own max", "PATCH", "/v1/workspaces/acme?update_mask=token_policy.default_lifetime", `{"token_policy":{"default_lifetime":"172800s"}}`, 400, "default_lifetime"},
		{"unknown workspace path", "PATCH", "/v1/workspaces/acme?update_mask=workspace_id", `{"workspace_id":"x"}`, 400, "workspace_id"},
		{"negative lifetime", "PATCH", "/v1/workspaces/acme", `{"token_policy":{"max_lifetime":"-5s"}}`, 400, "max_lifetime"},
		{"workspace full replacement", "PATCH", "/v1/workspaces/acme?update_mask=*", `{"display_name":"x"}`, 400, "display_name, token_policy"},
		{"token full replacement", "PATCH", "/v1/workspaces/acme/tokens/" + fresh + "?update_mask=*", `{"disabled":true}`, 400, "description, expire_time, disabled, operations, zoos"},
		{"wildcard policy path", "PATCH", "/v1/workspaces/acme?update_mask=token_policy.*", `{"token_policy":{}}`, 400, "token_policy.*"},
		{"lifetime below a minute", "PATCH", "/v1/workspaces/acme?update_mask=token_policy.max_lifetime", `{"token_policy":{"max_lifetime":"59s"}}`, 400, "max_lifetime"},
		{"default of 1ns", "PATCH", "/v1/workspaces/acme?update_mask=token_policy.default_lifetime", `{"token_policy":{"default_lifetime":"0.000000001s"}}`, 400, "default_lifetime"},
		{"huge family lifetime", "PATCH", "/v1/workspaces/acme?update_mask=token_policy.max_family_lifetime", `{"token_policy":{"max_family_lifetime":"315576000000s"}}`, 400, "max_family_lifetime"},
	}
	for _, b := range bad {
		code, m := call(b.method, b.path, b.body)
		detail, _ := m["detail"].(string)
		if code != b.status || detail == "" || !strings.Contains(detail, b.says) {
			t.Errorf("%s: %d %v; want %d with a detail saying %q", b.name, code, m, b.status, b.says)
		}
	}
	// Nothing refused changed the workspace or the token.
	ws = must("GET", "/v1/workspaces/acme", "")
	if p := ws["token_policy"].(map[string]any); p["max_lifetime"] != "86400s" || p["default_lifetime"] != "3600s" {
		t.Errorf("workspace after refused updates = %v", ws)
	}
	if got := must("GET", "/v1/workspaces/acme/tokens/"+fresh, ""); got["user_id"] != "alice" || got["replaced_by"] != "" {
		t.Errorf("token after refused calls = %v", got)
	}
}
