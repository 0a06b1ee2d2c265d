package etcdclient_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokenauthority/etcdclient"
	"tokenauthority/tlsconfig/certtest"
)

// TestClientConfig builds client configurations from real PEM and password
// files: TLS and credentials as asked, and each wrong file refused naming
// its flag.
func TestClientConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "members")
	client := ca.Client(t, "replica", "")
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	password, empty, notPEM := file("password", "s3cret\n"), file("empty", "\n"), file("not.pem", "no certificate here")
	https := []string{"https://127.0.0.1:2379"}
	tests := []struct {
		name    string
		cfg     etcdclient.Config
		wantErr string // "": no error
	}{
		{name: "plain", cfg: etcdclient.Config{Endpoints: []string{"http://127.0.0.1:2379"}}},
		{name: "mutual TLS and a password", cfg: etcdclient.Config{Endpoints: https, CA: ca.CertFile, Cert: client.CertFile, Key: client.KeyFile,
			Username: "ta", PasswordFile: password, DialTimeout: time.Second}},
		{name: "no endpoints", cfg: etcdclient.Config{}, wantErr: "--etcd-endpoints is required"},
		{name: "empty endpoint", cfg: etcdclient.Config{Endpoints: []string{""}}, wantErr: "empty endpoint"},
		{name: "mixed schemes", cfg: etcdclient.Config{Endpoints: []string{"https://a:2379", "http://b:2379"}}, wantErr: "mixes"},
		{name: "TLS to a plain endpoint", cfg: etcdclient.Config{Endpoints: []string{"http://a:2379"}, CA: ca.CertFile}, wantErr: "is plain http"},
		{name: "cert without key", cfg: etcdclient.Config{Endpoints: https, Cert: client.CertFile}, wantErr: "--etcd-cert and --etcd-key go together"},
		{name: "user without password file", cfg: etcdclient.Config{Endpoints: https, Username: "ta"}, wantErr: "--etcd-username and --etcd-password-file go together"},
		{name: "CA file holds no certificate", cfg: etcdclient.Config{Endpoints: https, CA: notPEM}, wantErr: "--etcd-ca " + notPEM + ": no PEM certificate"},
		{name: "CA file missing", cfg: etcdclient.Config{Endpoints: https, CA: filepath.Join(dir, "absent.pem")}, wantErr: "--etcd-ca: "},
		{name: "key of another certificate", cfg: etcdclient.Config{Endpoints: https, Cert: client.CertFile, Key: ca.Server(t, "member").KeyFile}, wantErr: "--etcd-cert/--etcd-key: "},
		{name: "empty password file", cfg: etcdclient.Config{Endpoints: https, Username: "ta", PasswordFile: empty}, wantErr: "--etcd-password-file " + empty + " is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc, err := tc.cfg.ClientConfig()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ClientConfig = %v; want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("ClientConfig error %q holds the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ClientConfig = %v", err)
			}
			wantDial := tc.cfg.DialTimeout
			if wantDial == 0 {
				wantDial = 5 * time.Second
			}
			if cc.DialTimeout != wantDial || cc.Logger == nil {
				t.Errorf("DialTimeout = %v, Logger = %v; want %v and a logger", cc.DialTimeout, cc.Logger, wantDial)
			}
			wantTLS := tc.cfg.CA != ""
			if gotTLS := cc.TLS != nil; gotTLS != wantTLS {
				t.Fatalf("TLS configured = %v; want %v", gotTLS, wantTLS)
			}
			if wantTLS && (cc.TLS.RootCAs == nil || len(cc.TLS.Certificates) != 1) {
				t.Errorf("TLS = %d certificates, roots %v; want the client certificate and the CA", len(cc.TLS.Certificates), cc.TLS.RootCAs)
			}
			if cc.Username != tc.cfg.Username || (tc.cfg.Username != "" && cc.Password != "s3cret") {
				t.Errorf("credentials = %q/%q; want %q and the file's password without its newline", cc.Username, cc.Password, tc.cfg.Username)
			}
		})
	}
}
