package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/cli"
	"tokenauthority/credential"
	"tokenauthority/daemon"
	"tokenauthority/tlsconfig"
	"tokenauthority/tlsconfig/certtest"
)

const (
	tlsAdminSecret = "tkas_tls-admin"
	boundAdminDNS  = "ops.hub.test"
)

// tlsServer is a daemon serving TLS, with the CA that signed its
// certificate, a client certificate bound to an admin credential, one bound
// to none, and one from a CA the server does not trust.
type tlsServer struct {
	*server
	ca                       *certtest.CA
	bound, unbound, stranger certtest.Pair
	otherCA                  string
}

// startTLSServer starts a daemon with a TLS certificate and, when mutual,
// a client CA that every client must present a certificate of.
func startTLSServer(t *testing.T, mutual bool) *tlsServer {
	t.Helper()
	dir := t.TempDir()
	ts := &tlsServer{ca: certtest.NewCA(t, dir, "hub")}
	other := certtest.NewCA(t, dir, "other")
	ts.otherCA = other.CertFile
	ts.bound = ts.ca.Client(t, "ops", "", boundAdminDNS)
	ts.unbound = ts.ca.Client(t, "nobody", "", "nobody.hub.test")
	ts.stranger = other.Client(t, "stranger", "", boundAdminDNS)
	srv := ts.ca.Server(t, "server")
	creds := filepath.Join(dir, "credentials.json")
	body := `{"credentials":[
		{"name":"ops-secret","role":"admin","sha256":"` + credential.HashHex(tlsAdminSecret) + `"},
		{"name":"ops-cert","role":"admin","client_identity":"` + boundAdminDNS + `"}]}`
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ts.server = startServer(t, nil, func(c *daemon.Config) {
		c.TLSCert, c.TLSKey = srv.CertFile, srv.KeyFile
		if mutual {
			c.TLSClientCA = ts.ca.CertFile
		}
		c.CredentialsFile = creds
	})
	return ts
}

// TestTLS runs tokenctl against daemons serving TLS, mutual TLS and
// plaintext, with every mix of client settings: the right ones work (a
// client certificate bound to a credential needs no bearer credential), the
// wrong ones fail with one line that names the cause and the exit code of
// its class.
func TestTLS(t *testing.T) {
	t.Parallel()
	ts := startTLSServer(t, false)
	ms := startTLSServer(t, true)
	plain := startServer(t, nil)
	bearer := map[string]string{cli.EnvCredential: tlsAdminSecret}
	withCert := func(p certtest.Pair, args ...string) []string {
		return append([]string{"--tls-ca", ms.ca.CertFile, "--tls-cert", p.CertFile, "--tls-key", p.KeyFile}, args...)
	}
	tests := []struct {
		name string
		addr string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"TLS with --tls-ca", ts.addr, bearer, []string{"--tls-ca", ts.ca.CertFile, "workspace", "create", "tls-flag"}, cli.ExitOK, nil},
		{"TLS with the variable", ts.addr, map[string]string{cli.EnvCredential: tlsAdminSecret, tlsconfig.EnvCA: ts.ca.CertFile}, []string{"workspace", "create", "tls-env"}, cli.ExitOK, nil},
		{"flag wins over variable", ts.addr, map[string]string{cli.EnvCredential: tlsAdminSecret, tlsconfig.EnvCA: ts.otherCA}, []string{"--tls-ca", ts.ca.CertFile, "workspace", "get", "tls-flag"}, cli.ExitOK, nil},
		{"plaintext client, TLS server", ts.addr, bearer, []string{"workspace", "list"}, cli.ExitUnreachable, []string{"speaks TLS and tokenctl plaintext", "--tls-ca"}},
		{"unknown CA", ts.addr, bearer, []string{"--tls-ca", ts.otherCA, "workspace", "list"}, cli.ExitUnreachable, []string{"not signed by a CA in --tls-ca " + ts.otherCA}},
		{"system roots", ts.addr, bearer, []string{"--tls-cert", ts.bound.CertFile, "--tls-key", ts.bound.KeyFile, "workspace", "list"}, cli.ExitUnreachable, []string{"not signed by a CA in the system's roots"}},
		{"mTLS, bound certificate, no bearer", ms.addr, nil, withCert(ms.bound, "workspace", "create", "mtls"), cli.ExitOK, nil},
		{"mTLS, bound certificate from variables", ms.addr, map[string]string{tlsconfig.EnvCA: ms.ca.CertFile, tlsconfig.EnvCert: ms.bound.CertFile, tlsconfig.EnvKey: ms.bound.KeyFile}, []string{"workspace", "get", "mtls"}, cli.ExitOK, nil},
		{"mTLS, bearer over a bound certificate", ms.addr, bearer, withCert(ms.bound, "workspace", "get", "mtls"), cli.ExitOK, nil},
		{"mTLS, no client certificate", ms.addr, bearer, []string{"--tls-ca", ms.ca.CertFile, "workspace", "list"}, cli.ExitCredential, []string{"requires a client certificate", "--tls-cert"}},
		{"mTLS, certificate of another CA", ms.addr, nil, withCert(ms.stranger, "workspace", "list"), cli.ExitCredential, []string{"refused the client certificate " + ms.stranger.CertFile}},
		{"mTLS, certificate bound to nothing", ms.addr, nil, withCert(ms.unbound, "workspace", "list"), cli.ExitCredential, []string{"bound to no service credential", "client_identity"}},
		{"mTLS, wrong bearer wins over certificate", ms.addr, map[string]string{cli.EnvCredential: "tkas_wrong"}, withCert(ms.bound, "workspace", "list"), cli.ExitCredential, []string{"not valid"}},
		{"plaintext client, mTLS server", ms.addr, bearer, []string{"workspace", "list"}, cli.ExitUnreachable, []string{"speaks TLS and tokenctl plaintext"}},
		{"TLS client, plaintext server", plain.addr, map[string]string{cli.EnvCredential: plain.admin}, []string{"--tls-ca", ts.ca.CertFile, "workspace", "list"}, cli.ExitUnreachable, []string{"speaks plaintext and tokenctl TLS", "TOKENAUTHORITY_TLS_"}},
		{"TLS client, nothing listening", "127.0.0.1:1", bearer, []string{"--tls-ca", ts.ca.CertFile, "workspace", "list"}, cli.ExitUnreachable, []string{"cannot reach", "connection refused"}},
		{"missing CA file", plain.addr, nil, []string{"--tls-ca", "/nonexistent/ca.pem", "workspace", "list"}, cli.ExitUsage, []string{"/nonexistent/ca.pem: no such file"}},
		{"CA file without certificates", plain.addr, nil, []string{"--tls-ca", ms.bound.KeyFile, "workspace", "list"}, cli.ExitUsage, []string{"no PEM certificates"}},
		{"certificate without key", plain.addr, nil, []string{"--tls-cert", ms.bound.CertFile, "workspace", "list"}, cli.ExitUsage, []string{"both a certificate file and a key file"}},
		{"no credential and no certificate", ms.addr, map[string]string{tlsconfig.EnvCA: ms.ca.CertFile}, []string{"workspace", "list"}, cli.ExitCredential, []string{"no service credential", "--tls-cert"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{cli.EnvAddr: tc.addr}
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCLI(t, nil, env, nil, tc.args...)
			if tc.code == cli.ExitOK {
				r.ok(t, tc.name)
				return
			}
			r.wantFailure(t, tc.name, tc.code, tc.want...)
			if strings.Contains(r.stderr, tlsAdminSecret) {
				t.Errorf("stderr shows the credential: %q", r.stderr)
			}
		})
	}
}
