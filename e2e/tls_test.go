package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/tlsconfig/certtest"
)

// TestMutualTLSBinary runs the binary with mutual TLS and drives it with
// curl and grpcurl: a client certificate bound to a validator credential
// validates with no bearer secret, and a client without a certificate is
// refused at the handshake.
func TestMutualTLSBinary(t *testing.T) {
	t.Parallel()
	pki := t.TempDir()
	ca := certtest.NewCA(t, pki, "test")
	srv := ca.Server(t, "server")
	admin := ca.Client(t, "admin", "spiffe://hub.test/admin")
	gateway := ca.Client(t, "gateway", "", "gateway.hub.test")
	creds := filepath.Join(pki, "credentials.json")
	if err := os.WriteFile(creds, []byte(`{"credentials":[
		{"name":"admin","role":"admin","client_identity":"spiffe://hub.test/admin"},
		{"name":"gateway","role":"validator","client_identity":"gateway.hub.test"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServer(t, t.TempDir(), "--credentials-file", creds,
		"--tls-cert", srv.CertFile, "--tls-key", srv.KeyFile, "--tls-client-ca", ca.CertFile)
	if logs := p.logs.String(); !strings.Contains(logs, `"tls":"mutual"`) {
		t.Errorf("start-up log does not name the TLS mode:\n%s", logs)
	}
	base := "https://" + p.httpAddr
	curl := func(allowFail bool, pair *certtest.Pair, method, path, body string) (string, error) {
		args := []string{"-sS", "--cacert", ca.CertFile, "-X", method, "-H", "Content-Type: application/json"}
		if pair != nil {
			args = append(args, "--cert", pair.CertFile, "--key", pair.KeyFile)
		}
		if body != "" {
			args = append(args, "-d", body)
		}
		return run(t, allowFail, "curl", append(args, base+path)...)
	}
	curl(false, &admin, "POST", "/v1/workspaces", `{"workspace_id":"acme"}`)
	curl(false, &admin, "POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`)
	out, _ := curl(false, &admin, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`)
	secret := jsonField(t, out, "secret")

	out, _ = curl(false, &gateway, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`)
	if !strings.Contains(out, `"valid":true`) {
		t.Errorf("curl validate with the gateway's certificate: %s; want valid", out)
	}
	out, _ = run(t, false, bins.grpcurl, "-cacert", ca.CertFile, "-cert", gateway.CertFile, "-key", gateway.KeyFile,
		"-d", `{"secret":"`+secret+`"}`, p.grpcAddr, "tokenauthority.v1.TokenService/ValidateToken")
	if !strings.Contains(out, `"valid": true`) {
		t.Errorf("grpcurl ValidateToken with the gateway's certificate: %s; want valid", out)
	}
	out, _ = curl(false, &gateway, "POST", "/v1/workspaces", `{"workspace_id":"evil"}`)
	if !strings.Contains(out, "PermissionDenied") && !strings.Contains(out, `"code":7`) {
		t.Errorf("the validator's certificate creating a workspace: %s; want permission denied", out)
	}
	// The audit log names the credential the certificate is bound to, and
	// the HTTPS client's address, for the changes the admin's made.
	out, _ = run(t, false, bins.grpcurl, "-cacert", ca.CertFile, "-cert", admin.CertFile, "-key", admin.KeyFile,
		"-d", `{"workspace_id":"acme"}`, p.grpcAddr, "tokenauthority.v1.AuditService/ListAuditEvents")
	var listed struct {
		Events []struct {
			Actor, Action, ClientAddress string
		}
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("ListAuditEvents: %v\n%s", err, out)
	}
	var actions []string
	for _, ev := range listed.Events {
		actions = append(actions, ev.Action)
		if ev.Actor != "admin" || !strings.HasPrefix(ev.ClientAddress, "127.0.0.1:") {
			t.Errorf("audit event %s by %q from %q; want the admin certificate's credential from loopback", ev.Action, ev.Actor, ev.ClientAddress)
		}
	}
	if got := strings.Join(actions, " "); got != "workspace.create member.add token.create" {
		t.Errorf("audit events = %s; want the admin's three changes", got)
	}
	if out, err := curl(true, nil, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`); err == nil {
		t.Errorf("curl without a client certificate succeeded: %s", out)
	}
	if out, err := run(t, true, bins.grpcurl, "-cacert", ca.CertFile, "-d", `{}`, p.grpcAddr, "grpc.health.v1.Health/Check"); err == nil {
		t.Errorf("grpcurl without a client certificate succeeded: %s", out)
	}
}

// jsonField returns a top-level string field of a JSON object in out.
func jsonField(t *testing.T, out, key string) string {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	v, ok := m[key].(string)
	if !ok {
		t.Fatalf("no string %q in %s", key, out)
	}
	return v
}
