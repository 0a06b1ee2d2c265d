package etcdclient

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/tlsconfig/certtest"
)

// TestCheckTLS checks the start-up TLS probe against real HTTP/2 servers
// over loopback: a TLS failure is reported, with the flag to fix, only when
// no endpoint could be used; a member that is down is not an error.
func TestCheckTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "members")
	other := certtest.NewCA(t, dir, "other")
	serverPair := ca.Server(t, "member")
	clientPair := ca.Client(t, "replica", "")
	serverCert, err := tls.LoadX509KeyPair(serverPair.CertFile, serverPair.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := tls.LoadX509KeyPair(clientPair.CertFile, clientPair.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := func(file string) *x509.CertPool {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM(b) {
			t.Fatalf("no certificate in %s", file)
		}
		return p
	}
	member := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	member.EnableHTTP2 = true
	member.Config.ErrorLog = log.New(io.Discard, "", 0)
	member.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool(ca.CertFile)}
	member.StartTLS()
	t.Cleanup(member.Close)
	good := member.URL // https://127.0.0.1:port

	// A port nothing listens on: a member that is down.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "https://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	mutual := &tls.Config{RootCAs: pool(ca.CertFile), Certificates: []tls.Certificate{clientCert}}
	noCert := &tls.Config{RootCAs: pool(ca.CertFile)}
	otherName := &tls.Config{RootCAs: pool(ca.CertFile), Certificates: []tls.Certificate{clientCert}, ServerName: "members.example"}
	wrongCA := &tls.Config{RootCAs: pool(other.CertFile), Certificates: []tls.Certificate{clientCert}}
	tests := []struct {
		name      string
		endpoints []string
		tls       *tls.Config
		want      []string // nil: no error
	}{
		{"mutual TLS", []string{good}, mutual, nil},
		{"one member down", []string{down, good}, mutual, nil},
		{"every member down is not a TLS error", []string{down}, mutual, nil},
		{"plain endpoints are not probed", []string{"http://" + strings.TrimPrefix(good, "https://")}, nil, nil},
		{"no client certificate", []string{good}, noCert, []string{good, "TLS", "certificate required", "--etcd-cert"}},
		{"no client certificate, one member down", []string{down, good}, noCert, []string{good, "certificate required"}},
		{"wrong CA", []string{good}, wrongCA, []string{good, "TLS", "unknown authority", "--etcd-ca"}},
		{"endpoint without a scheme uses the TLS configured", []string{strings.TrimPrefix(good, "https://")}, wrongCA, []string{"unknown authority"}},
		{"certificate names another host", []string{good}, otherName, []string{"not members.example", "names the endpoint's host"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkTLS(t.Context(), clientv3.Config{Endpoints: tc.endpoints, TLS: tc.tls, DialTimeout: 2 * time.Second})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("checkTLS = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkTLS = nil, want an error mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("checkTLS = %q, does not mention %q", err, w)
				}
			}
		})
	}
}
