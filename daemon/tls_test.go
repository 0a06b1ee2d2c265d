package daemon_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"tokenauthority/credential"
	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/secretfile"
	"tokenauthority/tlsconfig"
	"tokenauthority/tlsconfig/certtest"
)

const (
	tlsAdminSecret = "tkas_tls-admin-secret"
	gatewayID      = "spiffe://hub.test/gateway"
	webDNS         = "web.hub.test"
)

// tlsSetup is a daemon served over TLS with a CA, its server certificate
// and a credentials file binding a validator to a SPIFFE ID and an admin to
// a DNS name.
type tlsSetup struct {
	ca   *certtest.CA
	dir  string
	cfg  daemon.Config
	d    *teststack.Daemon
	base string
}

func startTLS(t *testing.T, mutual bool) *tlsSetup {
	t.Helper()
	s := &tlsSetup{dir: t.TempDir()}
	s.ca = certtest.NewCA(t, s.dir, "test")
	srv := s.ca.Server(t, "server")
	creds := filepath.Join(s.dir, "credentials.json")
	body := `{"credentials":[
		{"name":"ops","role":"admin","sha256":"` + credential.HashHex(tlsAdminSecret) + `"},
		{"name":"gateway","role":"validator","client_identity":"` + gatewayID + `"},
		{"name":"web","role":"admin","client_identity":"` + webDNS + `"}]}`
	if err := os.WriteFile(creds, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cfg = teststack.DaemonConfig(t)
	s.cfg.CredentialsFile = creds
	s.cfg.TLSCert, s.cfg.TLSKey = srv.CertFile, srv.KeyFile
	if mutual {
		s.cfg.TLSClientCA = s.ca.CertFile
	}
	s.d = teststack.RunDaemon(t, s.cfg)
	s.base = "https://" + s.d.HTTPAddr.String()
	return s
}

// clientTLS is the TLS configuration of a client trusting the test CA and,
// when pair is not nil, presenting that certificate.
func (s *tlsSetup) clientTLS(t *testing.T, pair *certtest.Pair) *tls.Config {
	t.Helper()
	files := tlsconfig.ClientFiles{CAFile: s.ca.CertFile}
	if pair != nil {
		files.CertFile, files.KeyFile = pair.CertFile, pair.KeyFile
	}
	cfg, err := tlsconfig.Client(files)
	if err != nil {
		t.Fatalf("tlsconfig.Client: %v", err)
	}
	return cfg
}

func (s *tlsSetup) grpcClient(t *testing.T, cfg *tls.Config) (pb.WorkspaceServiceClient, pb.TokenServiceClient) {
	t.Helper()
	conn, err := grpc.NewClient(s.d.GRPCAddr.String(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
}

// post sends a JSON body over HTTPS and returns the status and body; a
// failed exchange (such as a refused handshake) is returned as an error.
func (s *tlsSetup) post(t *testing.T, cfg *tls.Config, path, body, bearer string) (int, string, error) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(data), nil
}

func bearerCtx(t *testing.T, secret string) context.Context {
	return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+secret)
}

// TestServerTLS: with a certificate and no client CA, both listeners speak
// TLS only, and callers authenticate with bearer credentials as before.
func TestServerTLS(t *testing.T) {
	t.Parallel()
	s := startTLS(t, false)
	ws, _ := s.grpcClient(t, s.clientTLS(t, nil))
	if _, err := ws.CreateWorkspace(bearerCtx(t, tlsAdminSecret), &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatalf("CreateWorkspace over TLS: %v", err)
	}
	code, body, err := s.post(t, s.clientTLS(t, nil), "/v1/workspaces", `{"workspace_id":"beta"}`, tlsAdminSecret)
	if err != nil || code != http.StatusOK {
		t.Fatalf("POST /v1/workspaces over HTTPS = %d %s, %v; want 200", code, body, err)
	}
	// Without the bearer credential nothing is authenticated: a server-only
	// TLS connection has no client certificate.
	if code, body, err := s.post(t, s.clientTLS(t, nil), "/v1/workspaces", `{"workspace_id":"gamma"}`, ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("POST without a credential = %d %s, %v; want 401", code, body, err)
	}

	// Plaintext clients are refused on both listeners.
	conn, err := grpc.NewClient(s.d.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = pb.NewWorkspaceServiceClient(conn).GetWorkspace(bearerCtx(t, tlsAdminSecret), &pb.GetWorkspaceRequest{WorkspaceId: "acme"})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext gRPC call to a TLS listener: %v; want Unavailable", err)
	}
	resp, err := http.Get("http://" + s.d.HTTPAddr.String() + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plaintext HTTP to the TLS listener = %d; want 400 (the server's answer to plain HTTP on a TLS port)", resp.StatusCode)
		}
	}
}

// TestMutualTLS: with a client CA, a client without a certificate (or with
// one from another CA) is refused at the handshake, and a certificate bound
// to a credential authenticates without any bearer credential, on gRPC and
// REST alike.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	s := startTLS(t, true)
	gateway := s.ca.Client(t, "gateway", gatewayID)
	web := s.ca.Client(t, "web", "", "WEB.hub.test")
	stranger := s.ca.Client(t, "stranger", "spiffe://hub.test/stranger", "stranger.hub.test")
	otherCA := certtest.NewCA(t, t.TempDir(), "other")
	foreign := otherCA.Client(t, "foreign", gatewayID)

	t.Run("no client certificate", func(t *testing.T) {
		ws, _ := s.grpcClient(t, s.clientTLS(t, nil))
		_, err := ws.ListWorkspaces(bearerCtx(t, tlsAdminSecret), &pb.ListWorkspacesRequest{})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("gRPC without a client certificate: %v; want Unavailable (handshake refused)", err)
		}
		if code, _, err := s.post(t, s.clientTLS(t, nil), "/v1/workspaces", `{"workspace_id":"x"}`, tlsAdminSecret); err == nil {
			t.Errorf("HTTPS without a client certificate answered %d; want the handshake refused", code)
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		ws, _ := s.grpcClient(t, s.clientTLS(t, &foreign))
		if _, err := ws.ListWorkspaces(bearerCtx(t, tlsAdminSecret), &pb.ListWorkspacesRequest{}); status.Code(err) != codes.Unavailable {
			t.Errorf("gRPC with a foreign client certificate: %v; want Unavailable", err)
		}
		if code, _, err := s.post(t, s.clientTLS(t, &foreign), "/v1/tokens:validate", `{"secret":"x"}`, ""); err == nil {
			t.Errorf("HTTPS with a foreign client certificate answered %d; want the handshake refused", code)
		}
	})

	// The DNS-bound admin sets up a token, with no bearer credential.
	webWS, webTokens := s.grpcClient(t, s.clientTLS(t, &web))
	if _, err := webWS.CreateWorkspace(t.Context(), &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatalf("CreateWorkspace as the DNS-bound admin over gRPC: %v", err)
	}
	if _, err := webWS.AddMember(t.Context(), &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	created, err := webTokens.CreateToken(t.Context(), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "mtls"})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if code, body, err := s.post(t, s.clientTLS(t, &web), "/v1/workspaces", `{"workspace_id":"beta"}`, ""); err != nil || code != http.StatusOK {
		t.Errorf("POST /v1/workspaces as the DNS-bound admin over HTTPS = %d %s, %v; want 200", code, body, err)
	}

	// The SPIFFE-bound validator validates, over gRPC and REST.
	_, gwTokens := s.grpcClient(t, s.clientTLS(t, &gateway))
	v, err := gwTokens.ValidateToken(t.Context(), &pb.ValidateTokenRequest{Secret: created.GetSecret()})
	if err != nil || !v.GetValid() {
		t.Errorf("ValidateToken as the SPIFFE-bound validator over gRPC = %v, %v; want valid", v, err)
	}
	code, body, err := s.post(t, s.clientTLS(t, &gateway), "/v1/tokens:validate", `{"secret":"`+created.GetSecret()+`"}`, "")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"valid":true`) {
		t.Errorf("POST /v1/tokens:validate as the SPIFFE-bound validator = %d %s, %v; want valid", code, body, err)
	}
	// ...but has only the validator role.
	gwWS, _ := s.grpcClient(t, s.clientTLS(t, &gateway))
	if _, err := gwWS.CreateWorkspace(t.Context(), &pb.CreateWorkspaceRequest{WorkspaceId: "evil"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("CreateWorkspace as the validator: %v; want PermissionDenied", err)
	}
	// A bearer credential wins over the certificate, in both directions.
	if _, err := gwWS.CreateWorkspace(bearerCtx(t, tlsAdminSecret), &pb.CreateWorkspaceRequest{WorkspaceId: "ops"}); err != nil {
		t.Errorf("CreateWorkspace with the admin bearer over the validator's connection: %v", err)
	}
	if _, err := webWS.CreateWorkspace(bearerCtx(t, "tkas_wrong"), &pb.CreateWorkspaceRequest{WorkspaceId: "wrong"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a wrong bearer over the admin's connection: %v; want Unauthenticated, not the certificate's role", err)
	}

	// A valid certificate bound to no credential authenticates nothing.
	_, strangerTokens := s.grpcClient(t, s.clientTLS(t, &stranger))
	if _, err := strangerTokens.ValidateToken(t.Context(), &pb.ValidateTokenRequest{Secret: created.GetSecret()}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("ValidateToken with an unbound certificate over gRPC: %v; want Unauthenticated", err)
	}
	if code, body, err := s.post(t, s.clientTLS(t, &stranger), "/v1/tokens:validate", `{"secret":"x"}`, ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("POST /v1/tokens:validate with an unbound certificate = %d %s, %v; want 401", code, body, err)
	}
}

// TestCertificateRotation: replacing the certificate files is picked up by
// the next handshake on both listeners, without a restart.
func TestCertificateRotation(t *testing.T) {
	t.Parallel()
	s := startTLS(t, false)
	cfg := s.clientTLS(t, nil)
	serial := func(addr string, alpn string) *big.Int {
		t.Helper()
		c := cfg.Clone()
		c.NextProtos = []string{alpn}
		conn, err := tls.Dial("tcp", addr, c)
		if err != nil {
			t.Fatalf("TLS handshake with %s: %v", addr, err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber
	}
	grpcAddr, httpAddr := s.d.GRPCAddr.String(), s.d.HTTPAddr.String()
	before := serial(grpcAddr, "h2")
	if got := serial(httpAddr, "http/1.1"); got.Cmp(before) != 0 {
		t.Fatalf("the listeners serve different certificates: %v and %v", before, got)
	}
	s.ca.Server(t, "server") // new key and certificate in the same files
	afterGRPC, afterHTTP := serial(grpcAddr, "h2"), serial(httpAddr, "http/1.1")
	if afterGRPC.Cmp(before) == 0 || afterHTTP.Cmp(before) == 0 {
		t.Errorf("after rotation the listeners serve serials %v and %v; want a new one, not %v", afterGRPC, afterHTTP, before)
	}
	// The rotated certificate works for real calls.
	ws, _ := s.grpcClient(t, cfg)
	if _, err := ws.ListWorkspaces(bearerCtx(t, tlsAdminSecret), &pb.ListWorkspacesRequest{}); err != nil {
		t.Errorf("ListWorkspaces after rotation: %v", err)
	}
}

// TestTLSKeyFileMode: a private key that others may read is refused at
// start, naming the file and the fix.
func TestTLSKeyFileMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "test")
	srv := ca.Server(t, "server")
	if err := os.Chmod(srv.KeyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := teststack.DaemonConfig(t)
	cfg.TLSCert, cfg.TLSKey = srv.CertFile, srv.KeyFile
	if err := teststack.StartError(t, cfg); !errors.Is(err, secretfile.ErrExposed) || !strings.Contains(err.Error(), srv.KeyFile) {
		t.Errorf("Start with a world-readable TLS key = %v; want ErrExposed naming %s", err, srv.KeyFile)
	}
}
