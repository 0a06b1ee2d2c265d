package e2e_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEnvoyCheckWithGRPCurl finds Envoy's Authorization service through
// reflection and calls Check with grpcurl as Envoy would (no credential),
// then with --authz-require-credential and --authz-rules.
func TestEnvoyCheckWithGRPCurl(t *testing.T) {
	t.Parallel()
	const check = "envoy.service.auth.v3.Authorization/Check"
	p := startServer(t, t.TempDir())
	grpcurl(t, p, "tokenauthority.v1.WorkspaceService/CreateWorkspace", `{"workspace_id":"acme"}`)
	grpcurl(t, p, "tokenauthority.v1.WorkspaceService/CreateZoo", `{"workspace_id":"acme","zoo_id":"pub","visibility":"VISIBILITY_PUBLIC"}`)

	out, _ := run(t, false, bins.grpcurl, "-plaintext", p.grpcAddr, "list")
	if !strings.Contains(out, "envoy.service.auth.v3.Authorization") {
		t.Errorf("grpcurl list = %q; want envoy.service.auth.v3.Authorization", out)
	}
	out, _ = run(t, false, bins.grpcurl, "-plaintext", p.grpcAddr, "describe", "envoy.service.auth.v3.CheckRequest")
	if !strings.Contains(out, "AttributeContext attributes") {
		t.Errorf("describe CheckRequest = %q", out)
	}
	download := `{"attributes":{"request":{"http":{"method":"GET","path":"/zoo/v1/public/models/acme/pub/m.bin","headers":{"x-workspace-id":"spoofed"}}}}}`
	cloud := `{"attributes":{"request":{"http":{"method":"POST","path":"/zoo/v1/inference/acme/pub/run"}}}}`
	out, _ = run(t, false, bins.grpcurl, "-plaintext", "-d", download, p.grpcAddr, check)
	if !strings.Contains(out, `"okResponse"`) || !strings.Contains(out, `"x-workspace-id"`) {
		t.Errorf("Check(anonymous public download) = %s; want okResponse removing x-workspace-id", out)
	}
	out, _ = run(t, false, bins.grpcurl, "-plaintext", "-d", cloud, p.grpcAddr, check)
	if !strings.Contains(out, `"deniedResponse"`) || !strings.Contains(out, `"Unauthorized"`) || !strings.Contains(out, `REASON_TOKEN_REQUIRED`) {
		t.Errorf("Check(anonymous cloud inference) = %s; want a 401 deniedResponse", out)
	}

	// With --authz-require-credential, Check needs a validator credential;
	// with --authz-rules, the paths are the operator's.
	dir := t.TempDir()
	rules := filepath.Join(dir, "authz.rules")
	if err := os.WriteFile(rules, []byte("# models of the hub\n/models/{workspace}/{zoo}/... download\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	q := startServer(t, t.TempDir(), "--authz-require-credential", "--authz-rules", rules)
	grpcurl(t, q, "tokenauthority.v1.WorkspaceService/CreateWorkspace", `{"workspace_id":"acme"}`)
	grpcurl(t, q, "tokenauthority.v1.WorkspaceService/CreateZoo", `{"workspace_id":"acme","zoo_id":"pub","visibility":"VISIBILITY_PUBLIC"}`)
	out, err := run(t, true, bins.grpcurl, "-plaintext", "-d", download, q.grpcAddr, check)
	if err == nil || !strings.Contains(out, "Unauthenticated") {
		t.Errorf("Check without credential: %v %s; want Unauthenticated", err, out)
	}
	m := grpcurl(t, q, check, `{"attributes":{"request":{"http":{"method":"GET","path":"/models/acme/pub/m.bin"}}}}`)
	if _, ok := m["okResponse"]; !ok {
		t.Errorf("Check under the operator's rules = %v; want okResponse", m)
	}
	m = grpcurl(t, q, check, download)
	if !strings.Contains(toJSON(m), "no authorization rule matches") {
		t.Errorf("Check of a default-rule path under the operator's rules = %v; want no rule", m)
	}
}

// TestBadAuthzRules checks that a bad rule file stops the server at start
// with the line and what is wrong.
func TestBadAuthzRules(t *testing.T) {
	t.Parallel()
	rules := filepath.Join(t.TempDir(), "authz.rules")
	if err := os.WriteFile(rules, []byte("/models/{workspace}/{zoo}/... download\n/models/{workspace} upload\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bins.server, append([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--authz-rules", rules}, etcdArgs(dir)...)...)
	cmd.Env = append(os.Environ(), "TOKENAUTHORITY_DATA_DIR="+dir)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("server with a bad rule file did not exit")
	}
	if err == nil || !strings.Contains(string(out), "line 2:") || !strings.Contains(string(out), `"upload"`) {
		t.Errorf("server with a bad rule file: %v\n%s\nwant a failure naming line 2 and the bad operation", err, out)
	}
}

func toJSON(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}
