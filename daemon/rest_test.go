package daemon_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/credential"
	"tokenauthority/internal/teststack"
)

// TestRESTLifecycleInProcess drives a token's whole life over REST against a
// daemon started in-process: the same handlers, store and credentials as
// gRPC, reached through the gateway.
func TestRESTLifecycleInProcess(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	d := teststack.RunDaemon(t, cfg)
	call := func(method, path, body, auth string) (int, map[string]any) {
		t.Helper()
		return d.REST().As(auth).JSON(method, path, body)
	}
	admin := d.Admin
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/v1/workspaces", `{"workspaceId":"acme"}`, 200}, // lowerCamelCase is accepted too
		{"POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200},
		{"POST", "/v1/workspaces/acme/zoos", `{"zoo_id":"pub","visibility":"VISIBILITY_PUBLIC"}`, 200},
		{"GET", "/v1/workspaces/acme/members", "", 200},
		{"GET", "/v1/workspaces/acme/zoos/pub", "", 200},
	}
	for _, s := range steps {
		if code, m := call(s.method, s.path, s.body, admin); code != s.want {
			t.Fatalf("%s %s = %d %v; want %d", s.method, s.path, code, m, s.want)
		}
	}
	code, created := call("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"ci"}`, admin)
	if code != 200 {
		t.Fatalf("create token = %d %v", code, created)
	}
	secret := created["secret"].(string)
	id := created["token"].(map[string]any)["token_id"].(string)

	code, v := call("POST", "/v1/access:check", `{"secret":"`+secret+`","zoo":"acme/pub","operation":"OPERATION_CLOUD_INFERENCE"}`, admin)
	if code != 200 || v["allowed"] != true || v["user_id"] != "alice" {
		t.Errorf("check access = %d %v; want allowed for alice", code, v)
	}
	code, v = call("POST", "/v1/access:check", `{"zoo":"acme/pub","operation":"OPERATION_CLOUD_INFERENCE"}`, admin)
	if code != 200 || v["allowed"] != false || v["reason"] != "REASON_TOKEN_REQUIRED" {
		t.Errorf("anonymous cloud inference = %d %v; want REASON_TOKEN_REQUIRED with allowed=false present", code, v)
	}
	if code, r := call("POST", "/v1/workspaces/acme/tokens/"+id+":reveal", "", admin); code != 200 || r["secret"] != secret {
		t.Errorf("reveal = %d; want the secret", code)
	}
	if code, r := call("DELETE", "/v1/workspaces/acme/tokens/"+id, "", admin); code != 200 || r["state"] != "TOKEN_STATE_REVOKED" {
		t.Errorf("revoke = %d %v", code, r)
	}
	code, info := call("GET", "/api/v1/tokens/"+secret+"/info", "", "")
	if code != 401 || !strings.Contains(info["detail"].(string), "revoked") {
		t.Errorf("info of a revoked token = %d %v; want 401 saying revoked", code, info)
	}

	// Authentication and roles apply on this path exactly as on gRPC.
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no credential", "", 401},
		{"unknown credential", "tkas_unknown", 401},
	} {
		code, m := call("GET", "/v1/workspaces", "", tc.auth)
		if code != tc.want || m["detail"] == "" {
			t.Errorf("%s: %d %v; want %d with detail", tc.name, code, m, tc.want)
		}
	}
}

// TestCredentialsFile: with a credentials file no bootstrap credential is
// written, and roles hold over REST: a validator may validate, not manage.
func TestCredentialsFile(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	const adminCred, validatorCred = "tkas_admin-from-file", "tkas_validator-from-file"
	file := filepath.Join(t.TempDir(), "credentials.json")
	body := `{"credentials":[{"name":"web","role":"admin","sha256":"` + credential.HashHex(adminCred) + `"},` +
		`{"name":"zoo-service","role":"validator","sha256":"` + credential.HashHex(validatorCred) + `"}]}`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CredentialsFile = file
	d := teststack.RunDaemon(t, cfg)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "admin.credential")); !os.IsNotExist(err) {
		t.Errorf("admin.credential exists although a credentials file is configured (stat: %v)", err)
	}
	post := func(path, body, cred string) int {
		t.Helper()
		code, _, _ := d.REST().As(cred).Do("POST", path, body, nil)
		return code
	}
	tests := []struct {
		name, path, body, cred string
		want                   int
	}{
		{"validator creates a workspace", "/v1/workspaces", `{"workspace_id":"acme"}`, validatorCred, 403},
		{"admin creates a workspace", "/v1/workspaces", `{"workspace_id":"acme"}`, adminCred, 200},
		{"validator validates", "/v1/tokens:validate", `{"secret":"tka_x"}`, validatorCred, 200},
		{"validator checks access", "/v1/access:check", `{"zoo":"acme/z","operation":"OPERATION_DOWNLOAD"}`, validatorCred, 200},
		{"admin validates", "/v1/tokens:validate", `{"secret":"tka_x"}`, adminCred, 200},
	}
	for _, tc := range tests {
		if got := post(tc.path, tc.body, tc.cred); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
