package tlsconfig_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"slices"
	"testing"

	"tokenauthority/secretfile"
	"tokenauthority/tlsconfig"
	"tokenauthority/tlsconfig/certtest"
)

func TestIdentities(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "ca")
	pair := ca.Client(t, "c", "spiffe://hub.test/svc", "Svc.Hub.Test", "other.test")
	cert, err := tls.LoadX509KeyPair(pair.CertFile, pair.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	got := tlsconfig.Identities(leaf)
	want := []string{"spiffe://hub.test/svc", "svc.hub.test", "other.test"}
	if !slices.Equal(got, want) {
		t.Errorf("Identities = %q; want %q", got, want)
	}
	if got := tlsconfig.VerifiedLeaf(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}); got != nil {
		t.Error("VerifiedLeaf returned a certificate that was presented but not verified")
	}
	if got := tlsconfig.VerifiedLeaf(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}); got != leaf {
		t.Error("VerifiedLeaf did not return the verified leaf")
	}
}

func TestClientFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "ca")
	pair := ca.Client(t, "c", "spiffe://hub.test/svc")
	env := map[string]string{tlsconfig.EnvCA: ca.CertFile, tlsconfig.EnvCert: pair.CertFile, tlsconfig.EnvKey: pair.KeyFile}
	files := tlsconfig.ClientFilesFromEnv(func(k string) string { return env[k] })
	cfg, err := tlsconfig.Client(files)
	if err != nil {
		t.Fatalf("Client(%+v): %v", files, err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Errorf("Client config has roots %v and %d certificates; want the CA and one", cfg.RootCAs != nil, len(cfg.Certificates))
	}
	if _, err := tlsconfig.Client(tlsconfig.ClientFiles{CertFile: pair.CertFile}); err == nil {
		t.Error("Client with a certificate and no key succeeded")
	}
	if _, err := tlsconfig.Client(tlsconfig.ClientFiles{CAFile: pair.KeyFile}); !errors.Is(err, tlsconfig.ErrNoCertificates) {
		t.Errorf("Client with a key as CA = %v; want ErrNoCertificates", err)
	}
	if err := os.Chmod(pair.KeyFile, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsconfig.Client(files); !errors.Is(err, secretfile.ErrExposed) {
		t.Errorf("Client with a group-readable key = %v; want ErrExposed", err)
	}
}

// TestServerKeepsCertificateOnBadRotation: a rotation caught halfway (new
// certificate, old key) keeps serving the previous certificate, then picks
// up the new pair once the key arrives.
func TestServerKeepsCertificateOnBadRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "ca")
	first := ca.Server(t, "server")
	firstKey, err := os.ReadFile(first.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tlsconfig.Server(tlsconfig.ServerFiles{CertFile: first.CertFile, KeyFile: first.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	serving := func() []byte {
		t.Helper()
		c, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil || c == nil {
			t.Fatalf("GetCertificate = %v, %v", c, err)
		}
		return c.Certificate[0]
	}
	before := serving()
	second := ca.Server(t, "server") // writes a new key and certificate
	secondKey, err := os.ReadFile(second.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	// Put the old key back: the files no longer match.
	if err := os.WriteFile(second.KeyFile, firstKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := serving(); !slices.Equal(got, before) {
		t.Error("a mismatched certificate and key replaced the serving certificate")
	}
	if err := os.WriteFile(second.KeyFile, secondKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := serving(); slices.Equal(got, before) {
		t.Error("the new certificate was not picked up once its key arrived")
	}
}
