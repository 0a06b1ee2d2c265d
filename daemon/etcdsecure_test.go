package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/tlsconfig/certtest"
)

// startRefusedWithin bounds how long a replica may take to refuse a cluster
// it cannot use: a TLS or credential mismatch is not an outage to wait out.
const startRefusedWithin = 8 * time.Second

// etcdConfig is a daemon configuration on c under prefix.
func etcdConfig(t *testing.T, c *etcdtest.Cluster, prefix string) daemon.Config {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Store = "etcd"
	cfg.Etcd.Endpoints = c.Endpoints()
	cfg.Etcd.Prefix = prefix
	cfg.MasterKey = base64.StdEncoding.EncodeToString(key)
	return cfg
}

// createAndValidate proves a started daemon works on its store: a token is
// created and validates, and once revoked is refused; and the watch that
// keeps the validation index current runs over the same TLS and
// credentials (/readyz answers 200 after several staleness bounds).
func createAndValidate(t *testing.T, cfg daemon.Config) {
	t.Helper()
	cfg.Etcd.MaxStaleness = 300 * time.Millisecond
	d, conn := start(t, cfg)
	ctx := adminCtx(t, cfg.DataDir)
	tokens := pb.NewTokenServiceClient(conn)
	created := validAcmeToken(ctx, t, conn)
	if _, err := tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: created.GetToken().GetTokenId()}); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	v, err := tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: created.GetSecret()})
	if err != nil {
		t.Fatalf("ValidateToken: %v", err)
	}
	if v.GetValid() {
		t.Fatalf("ValidateToken(revoked token) = valid, want invalid")
	}
	// Past several bounds, an index without a working watch has lagged
	// beyond the bound for good; one with a watch answers 200 again soon
	// even on a loaded machine.
	time.Sleep(3 * cfg.Etcd.MaxStaleness)
	var code int
	var body []byte
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + d.HTTPAddr.String() + "/readyz")
		if err != nil {
			t.Fatalf("GET /readyz: %v", err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		code = resp.StatusCode
		if code == http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	if code != http.StatusOK {
		t.Fatalf("/readyz = %d %s, want 200: the watch is not keeping the index current", code, body)
	}
}

// refused starts a daemon that must not start, and returns its error,
// failing the test if it started or took longer than startRefusedWithin.
func refused(t *testing.T, cfg daemon.Config) error {
	t.Helper()
	begin := time.Now()
	d, err := daemon.Start(t.Context(), cfg, slog.New(slog.DiscardHandler))
	took := time.Since(begin)
	if err == nil {
		_ = d.Shutdown(context.Background())
		t.Fatalf("Start succeeded, want an error")
	}
	if took > startRefusedWithin {
		t.Errorf("Start took %v to refuse, want at most %v", took.Round(time.Millisecond), startRefusedWithin)
	}
	t.Logf("refused in %v: %v", took.Round(time.Millisecond), err)
	return err
}

// mentions fails unless msg contains every one of want (case-insensitive)
// and none of never.
func mentions(t *testing.T, msg string, want []string, never ...string) {
	t.Helper()
	low := strings.ToLower(msg)
	for _, w := range want {
		if !strings.Contains(low, strings.ToLower(w)) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	for _, n := range never {
		if n != "" && strings.Contains(msg, n) {
			t.Errorf("error %q contains %q", msg, n)
		}
	}
}

// TestEtcdMutualTLS runs the daemon on a cluster that serves clients over
// TLS and demands a client certificate: with --etcd-ca, --etcd-cert and
// --etcd-key it works; every way of getting TLS wrong is refused at start,
// promptly, with an error naming etcd and TLS.
func TestEtcdMutualTLS(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{Members: 1, MutualTLS: true})
	tl := c.TLS()
	other := certtest.NewCA(t, t.TempDir(), "other")
	otherClient := other.Client(t, "other-client", "")

	t.Run("ok", func(t *testing.T) {
		cfg := etcdConfig(t, c, "/tls/")
		cfg.Etcd.CA, cfg.Etcd.Cert, cfg.Etcd.Key = tl.CAFile, tl.Client.CertFile, tl.Client.KeyFile
		createAndValidate(t, cfg)
	})
	for _, tc := range []struct {
		name          string
		ca, cert, key string
		want          []string
	}{
		{name: "no client certificate", ca: tl.CAFile, want: []string{"etcd", "tls", "certificate required", "--etcd-cert"}},
		{name: "client certificate of another CA", ca: tl.CAFile, cert: otherClient.CertFile, key: otherClient.KeyFile, want: []string{"etcd", "tls", "--etcd-cert", "trusted-ca-file"}},
		{name: "no CA: the system's roots do not know the cluster's", cert: tl.Client.CertFile, key: tl.Client.KeyFile, want: []string{"etcd", "tls", "unknown authority", "--etcd-ca"}},
		{name: "wrong CA", ca: other.CertFile, cert: tl.Client.CertFile, key: tl.Client.KeyFile, want: []string{"etcd", "tls", "certificate", "--etcd-ca"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := etcdConfig(t, c, "/tls/")
			cfg.Etcd.CA, cfg.Etcd.Cert, cfg.Etcd.Key = tc.ca, tc.cert, tc.key
			err := refused(t, cfg)
			mentions(t, err.Error(), tc.want)
		})
	}
}

// TestEtcdAuthentication runs the daemon on a cluster with authentication
// on: a user whose role covers the prefix works; a wrong password, or a
// user whose role covers another prefix, is refused at start with an error
// that says so and never shows the password.
func TestEtcdAuthentication(t *testing.T) {
	t.Parallel()
	const (
		goodPassword  = "correct-horse-battery"
		otherPassword = "other-staple-password"
	)
	c := etcdtest.Start(t, etcdtest.Options{Members: 1, Auth: &etcdtest.Auth{
		RootPassword: "root-password-never-used-by-replicas",
		Users: []etcdtest.User{
			{Name: "tokenauthority", Password: goodPassword, Prefix: "/ta/"},
			{Name: "elsewhere", Password: otherPassword, Prefix: "/other/"},
		},
	}})
	passwordFile := func(t *testing.T, pw string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "etcd.password")
		if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("ok", func(t *testing.T) {
		cfg := etcdConfig(t, c, "/ta/")
		cfg.Etcd.Username, cfg.Etcd.PasswordFile = "tokenauthority", passwordFile(t, goodPassword)
		createAndValidate(t, cfg)
	})
	for _, tc := range []struct {
		name, user, password, prefix string
		want                         []string
	}{
		{name: "wrong password", user: "tokenauthority", password: "not-the-password", prefix: "/ta/",
			want: []string{"etcd", "tokenauthority", "authentication failed", "--etcd-password-file"}},
		{name: "unknown user", user: "nobody", password: goodPassword, prefix: "/ta/",
			want: []string{"etcd", "nobody", "authentication failed"}},
		{name: "empty password file", user: "tokenauthority", password: "", prefix: "/ta/",
			want: []string{"--etcd-password-file", "is empty"}},
		{name: "role covers another prefix", user: "elsewhere", password: otherPassword, prefix: "/ta/",
			want: []string{"etcd", "elsewhere", "permission denied", "/ta/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := etcdConfig(t, c, tc.prefix)
			cfg.Etcd.Username, cfg.Etcd.PasswordFile = tc.user, passwordFile(t, tc.password)
			err := refused(t, cfg)
			mentions(t, err.Error(), tc.want, tc.password, goodPassword, otherPassword)
		})
	}
}
