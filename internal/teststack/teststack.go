package teststack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/authz"
	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/server/rest"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/token"
)

// Service credentials of the stack.
const (
	AdminSecret     = "tkas_admin-secret-for-tests"
	ValidatorSecret = "tkas_validator-secret-for-tests"
)

// Stack is a running service.
type Stack struct {
	GRPCAddr   string
	HTTPURL    string // http://127.0.0.1:port, no trailing slash
	Store      *bbolt.Store
	DBPath     string // the store's file
	Clock      *Clock
	Conn       *grpc.ClientConn // no credential attached
	Tokens     pb.TokenServiceClient
	Workspaces pb.WorkspaceServiceClient
	// Server is the services, for what tests wait on
	// (WaitLeakReports).
	Server *server.Server
	// Commits counts the store's commits.
	Commits *atomic.Int64
}

// Start runs a stack until the test ends. opts adjust the server's
// configuration.
func Start(t testing.TB, opts ...func(*server.Config)) *Stack {
	t.Helper()
	return StartWith(t, nil, opts...)
}

// StartWith is Start with extra services registered on the gRPC server
// when extra is not nil.
func StartWith(t testing.TB, extra func(grpc.ServiceRegistrar), opts ...func(*server.Config)) *Stack {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "tokenauthority.db")
	commits := &atomic.Int64{}
	store, err := bbolt.Open(dbPath, bbolt.Options{OnCommit: func(int) { commits.Add(1) }})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		// A test may close the store itself (to see how the services
		// answer without one); ErrClosed is that, not a failure.
		if err := store.Close(); err != nil && !errors.Is(err, storage.ErrClosed) {
			t.Errorf("close store: %v", err)
		}
	})
	key, err := seal.LoadOrCreateKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := credential.Parse([]byte(`{"credentials":[
		{"name":"web","role":"admin","sha256":"` + credential.HashHex(AdminSecret) + `"},
		{"name":"zoo-service","role":"validator","sha256":"` + credential.HashHex(ValidatorSecret) + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{Store: store, DBPath: dbPath, Clock: NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)), Commits: commits}
	cfg := server.Config{
		Store:       store,
		Box:         box,
		Credentials: creds,
		Reveal:      true,
		Logger:      slog.New(slog.DiscardHandler),
		Now:         s.Clock.Now,
		Codec:       authz.EnvoyCodec(nil),
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
	s.Server = srv

	g := grpc.NewServer(srv.ServerOptions()...)
	srv.Register(g)
	gw := authz.New(srv.Access(), nil, cfg.Metrics)
	authz.RegisterEnvoy(g, server.Guarded(srv, server.EnvoyCheckMethod, gw.Check))
	reflection.Register(g)
	if extra != nil {
		extra(g)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	s.GRPCAddr = lis.Addr().String()

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := rest.New(ctx, rest.Config{Routes: map[string]http.Handler{"/v1/authz": srv.LimitGateway(gw.ForwardAuth(nil))}, Admit: srv.AdmitOpen}, srv.Tokens(), srv.Workspaces(), srv.Self())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	s.HTTPURL = hs.URL

	conn, err := grpc.NewClient(s.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s.Conn = conn
	s.Tokens = pb.NewTokenServiceClient(conn)
	s.Workspaces = pb.NewWorkspaceServiceClient(conn)
	return s
}

// As returns ctx carrying a service credential.
func As(ctx context.Context, credential string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+credential)
}

// Fixture holds what MakeFixture created.
type Fixture struct {
	// Secrets by name: "own" (acme/alice), "other" (other/bob), "scoped"
	// (acme/alice, limited to downloads from acme/pub), and tokens that are
	// not valid: "expired", "revoked", "left" (user no longer a member),
	// "disabled", "capped" (short/dave, past the one-minute max_lifetime of
	// its workspace's token policy, set after it was created), "unknown"
	// (well-formed, never issued), "malformed".
	Secrets map[string]string
	// TokenIDs of the issued tokens by the same names.
	TokenIDs map[string]string
}

// Zoos of the fixture: a public and a private zoo of workspace acme.
const (
	PublicZoo  = "acme/pub"
	PrivateZoo = "acme/priv"
)

// MakeFixture creates workspaces acme (alice, carol), other (bob) and
// short (dave), the zoos acme/pub (public) and acme/priv (private), and a
// token for each name of Fixture.Secrets. It advances the clock by two
// minutes.
func (s *Stack) MakeFixture(t testing.TB) *Fixture {
	t.Helper()
	ctx := As(context.Background(), AdminSecret)
	for ws, users := range map[string][]string{"acme": {"alice", "carol"}, "other": {"bob"}, "short": {"dave"}} {
		if _, err := s.Workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: ws, DisplayName: ws}); err != nil {
			t.Fatalf("CreateWorkspace(%s): %v", ws, err)
		}
		for _, u := range users {
			if _, err := s.Workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: ws, UserId: u}); err != nil {
				t.Fatalf("AddMember(%s, %s): %v", ws, u, err)
			}
		}
	}
	for zoo, v := range map[string]pb.Visibility{"pub": pb.Visibility_VISIBILITY_PUBLIC, "priv": pb.Visibility_VISIBILITY_PRIVATE} {
		if _, err := s.Workspaces.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: "acme", ZooId: zoo, Visibility: v}); err != nil {
			t.Fatalf("CreateZoo(acme/%s): %v", zoo, err)
		}
	}
	f := &Fixture{Secrets: map[string]string{}, TokenIDs: map[string]string{}}
	create := func(name, ws, user string, exp *timestamppb.Timestamp, ops ...pb.Operation) {
		req := &pb.CreateTokenRequest{WorkspaceId: ws, UserId: user, Description: name, ExpireTime: exp, Operations: ops}
		if len(ops) > 0 {
			req.Zoos = []string{PublicZoo}
		}
		resp, err := s.Tokens.CreateToken(ctx, req)
		if err != nil {
			t.Fatalf("CreateToken(%s): %v", name, err)
		}
		f.Secrets[name], f.TokenIDs[name] = resp.GetSecret(), resp.GetToken().GetTokenId()
	}
	create("own", "acme", "alice", nil)
	create("other", "other", "bob", nil)
	create("expired", "acme", "alice", timestamppb.New(s.Clock.Now().Add(time.Minute)))
	create("revoked", "acme", "alice", nil)
	create("left", "acme", "carol", nil)
	create("disabled", "acme", "alice", nil)
	create("scoped", "acme", "alice", nil, pb.Operation_OPERATION_DOWNLOAD)
	create("capped", "short", "dave", nil)
	if _, err := s.Tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: f.TokenIDs["revoked"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{
		Token:      &pb.Token{WorkspaceId: "acme", TokenId: f.TokenIDs["disabled"], Disabled: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"disabled"}},
	}); err != nil {
		t.Fatal(err)
	}
	// A limit lowered after the token was made ends it at use.
	if _, err := s.Workspaces.UpdateWorkspace(ctx, &pb.UpdateWorkspaceRequest{
		Workspace:  &pb.Workspace{WorkspaceId: "short", TokenPolicy: &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Minute)}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"token_policy.max_lifetime"}},
	}); err != nil {
		t.Fatal(err)
	}
	// Removing a member through the API revokes the user's tokens at once;
	// through the store, with the revocation an hour away, the token is
	// alive but its user is no longer a member.
	if _, err := s.Store.RemoveMember(context.Background(), "acme", "carol", s.Clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	unknown, err := token.New()
	if err != nil {
		t.Fatal(err)
	}
	f.Secrets["unknown"] = unknown
	own := f.Secrets["own"]
	last := own[len(own)-1]
	flipped := byte('a')
	if last == 'a' {
		flipped = 'b'
	}
	f.Secrets["malformed"] = own[:len(own)-1] + string(flipped)
	s.Clock.Advance(2 * time.Minute)
	return f
}
