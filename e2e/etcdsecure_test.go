package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokenauthority/internal/etcdtest"
)

// TestBinaryOnSecuredEtcd runs the server binary on a cluster that demands
// both a client certificate and a password, with debug logs: it serves with
// the right flags and never writes the password anywhere; with a wrong
// password or no client certificate it exits at once with an error naming
// the cause and not the password.
func TestBinaryOnSecuredEtcd(t *testing.T) {
	t.Parallel()
	const password = "s3cret-etcd-password-for-e2e"
	c := etcdtest.Start(t, etcdtest.Options{Members: 1, MutualTLS: true, Auth: &etcdtest.Auth{
		RootPassword: "root-password-for-e2e",
		Users:        []etcdtest.User{{Name: "tokenauthority", Password: password, Prefix: "/secured/"}},
	}})
	tl := c.TLS()
	dir := t.TempDir()
	writePassword := func(name, pw string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, wrong := writePassword("etcd.password", password), writePassword("wrong.password", "not-"+password)
	flags := func(cert bool, passwordFile string) []string {
		f := []string{"--store", "etcd", "--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-prefix", "/secured/",
			"--etcd-ca", tl.CAFile, "--etcd-username", "tokenauthority", "--etcd-password-file", passwordFile}
		if cert {
			f = append(f, "--etcd-cert", tl.Client.CertFile, "--etcd-key", tl.Client.KeyFile)
		}
		return f
	}

	p := startServer(t, filepath.Join(dir, "data"), flags(true, good)...)
	cl := newClient(t, p)
	cl.members(t, "acme", "alice")
	created := cl.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
	secret, _ := created["secret"].(string)
	if v := cl.mustJSON(t, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, 200); v["valid"] != true {
		t.Fatalf("validate = %v, want valid", v)
	}
	p.stop(t)
	if strings.Contains(p.logs.String(), password) {
		t.Errorf("the server's debug log contains the etcd password")
	}

	for _, tc := range []struct {
		name  string
		flags []string
		want  []string
	}{
		{"wrong password", flags(true, wrong), []string{"etcd", `authentication failed for user "tokenauthority"`, "--etcd-password-file"}},
		{"no client certificate", flags(false, good), []string{"etcd", "TLS", "certificate required", "--etcd-cert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "debug"}, tc.flags...)
			begin := time.Now()
			out, err := run(t, true, bins.server, args...)
			took := time.Since(begin)
			if err == nil {
				t.Fatalf("server started, want a refusal:\n%s", out)
			}
			if took > 10*time.Second {
				t.Errorf("refusal took %v, want at most 10s", took.Round(time.Millisecond))
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, password) || strings.Contains(out, "not-"+password) {
				t.Errorf("output contains the password:\n%s", out)
			}
			t.Logf("refused in %v", took.Round(time.Millisecond))
		})
	}
}
