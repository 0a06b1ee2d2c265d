package server_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/server"
	"tokenauthority/storage"
	"tokenauthority/token"
)

const (
	adminSecret     = teststack.AdminSecret
	validatorSecret = teststack.ValidatorSecret
)

// env is the in-process stack (teststack) as these tests name its parts,
// with the server's debug log kept.
type env struct {
	addr       string
	dbPath     string
	audit      pb.AuditServiceClient
	store      storage.Backend
	clock      *teststack.Clock
	logs       *teststack.Logs
	workspaces pb.WorkspaceServiceClient
	tokens     pb.TokenServiceClient
	self       pb.SelfServiceClient
	srv        *server.Server
	// commits counts the store's commits.
	commits *atomic.Int64
}

type envOption = func(*server.Config)

// registrar registers extra services on the test server.
type registrar = grpc.ServiceRegistrar

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvWith(t, nil, opts...)
}

func newEnvWith(t testing.TB, extra func(registrar), opts ...envOption) *env {
	t.Helper()
	logs := &teststack.Logs{}
	withLogs := func(c *server.Config) { c.Logger = logs.Logger() }
	// An option may hand the server another env's store.
	var store storage.Backend
	final := func(c *server.Config) { store = c.Store }
	s := teststack.StartWith(t, extra, append(append([]envOption{withLogs}, opts...), final)...)
	return &env{
		addr:       s.GRPCAddr,
		dbPath:     s.DBPath,
		audit:      pb.NewAuditServiceClient(s.Conn),
		store:      store,
		clock:      s.Clock,
		logs:       logs,
		workspaces: s.Workspaces,
		tokens:     s.Tokens,
		self:       pb.NewSelfServiceClient(s.Conn),
		srv:        s.Server,
		commits:    s.Commits,
	}
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
