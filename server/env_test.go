package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"tokenauthority/authz"
	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/token"
)

const (
	adminSecret     = "tkas_admin-secret-for-tests"
	validatorSecret = "tkas_validator-secret-for-tests"
)

// clock is a settable time source shared by a test and its server.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a server on a real bbolt file, served over loopback gRPC.
type env struct {
	addr       string
	dbPath     string
	audit      pb.AuditServiceClient
	store      storage.Backend
	clock      *clock
	logs       *syncBuffer
	workspaces pb.WorkspaceServiceClient
	tokens     pb.TokenServiceClient
	self       pb.SelfServiceClient
	srv        *server.Server
	// commits counts the store's commits.
	commits *atomic.Int64
}

type envOption func(*server.Config)

// registrar registers extra services on the test server.
type registrar = grpc.ServiceRegistrar

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvWith(t, nil, opts...)
}

func newEnvWith(t testing.TB, extra func(registrar), opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "tokenauthority.db")
	commits := &atomic.Int64{}
	store, err := bbolt.Open(dbPath, bbolt.Options{OnCommit: func(int) { commits.Add(1) }})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	key, err := seal.LoadOrCreateKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := credential.Parse([]byte(`{"credentials":[
		{"name":"web","role":"admin","sha256":"` + credential.HashHex(adminSecret) + `"},
		{"name":"zoo-service","role":"validator","sha256":"` + credential.HashHex(validatorSecret) + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{clock: &clock{now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}, logs: &syncBuffer{}, commits: commits}
	cfg := server.Config{
		Store:       store,
		Box:         box,
		Credentials: creds,
		Reveal:      true,
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         e.clock.Now,
		// As daemon wires the server: Envoy's Check, authz's, beside it.
		Codec: authz.EnvoyCodec(nil),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv := server.New(cfg)
	t.Cleanup(func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	e.srv = srv
	g := grpc.NewServer(srv.ServerOptions()...)
	srv.Register(g)
	gw := authz.New(srv.Access(), nil, cfg.Metrics)
	authz.RegisterEnvoy(g, server.Guarded(srv, server.EnvoyCheckMethod, gw.Check))
	if extra != nil {
		extra(g)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.addr = lis.Addr().String()
	e.dbPath = dbPath
	e.audit = pb.NewAuditServiceClient(conn)
	e.store = cfg.Store
	e.workspaces = pb.NewWorkspaceServiceClient(conn)
	e.tokens = pb.NewTokenServiceClient(conn)
	e.self = pb.NewSelfServiceClient(conn)
	return e
}

// reportLeaked reports secrets as leaked and waits, up to 10 s, until the
// server has processed the report (the answer comes first).
func (e *env) reportLeaked(t testing.TB, ctx context.Context, secrets ...string) error {
	t.Helper()
	if _, err := e.tokens.ReportLeakedTokens(ctx, &pb.ReportLeakedTokensRequest{Secrets: secrets}); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.srv.WaitLeakReports(wctx); err != nil {
		t.Fatalf("leak report not processed: %v", err)
	}
	return nil
}

// as returns ctx carrying a service credential.
func as(ctx context.Context, secret string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret)
}

func metadataCtx(t *testing.T, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(t.Context(), kv...)
}

func admin(t testing.TB) context.Context     { return as(t.Context(), adminSecret) }
func validator(t *testing.T) context.Context { return as(t.Context(), validatorSecret) }

// workspace creates a workspace with the given members and zoos (zoo id ->
// visibility).
func (e *env) workspace(t testing.TB, id string, members []string, zoos map[string]pb.Visibility) {
	t.Helper()
	ctx := admin(t)
	if _, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: id, DisplayName: id}); err != nil {
		t.Fatalf("CreateWorkspace(%s): %v", id, err)
	}
	for _, m := range members {
		if _, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: id, UserId: m}); err != nil {
			t.Fatalf("AddMember(%s, %s): %v", id, m, err)
		}
	}
	for z, v := range zoos {
		if _, err := e.workspaces.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: id, ZooId: z, Visibility: v}); err != nil {
			t.Fatalf("CreateZoo(%s/%s): %v", id, z, err)
		}
	}
}

// token creates a token and returns it with its secret.
func (e *env) token(t testing.TB, ws, user string, req *pb.CreateTokenRequest) (*pb.Token, string) {
	t.Helper()
	if req == nil {
		req = &pb.CreateTokenRequest{}
	}
	req.WorkspaceId, req.UserId = ws, user
	if req.Description == "" {
		req.Description = "test token"
	}
	resp, err := e.tokens.CreateToken(admin(t), req)
	if err != nil {
		t.Fatalf("CreateToken(%s, %s): %v", ws, user, err)
	}
	return resp.GetToken(), resp.GetSecret()
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// validate calls ValidateToken as the validator and fails the test when the
// call itself fails: a "not valid" answer must come from the server, never
// from an error the test ignored.
func (e *env) validate(t *testing.T, secret string) *pb.ValidateTokenResponse {
	t.Helper()
	v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret})
	if err != nil {
		t.Fatalf("ValidateToken(%s): %v", token.Mask(secret), err)
	}
	return v
}
