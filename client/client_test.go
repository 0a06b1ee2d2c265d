package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"tokenauthority/client"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

const (
	dl    = pb.Operation_OPERATION_DOWNLOAD
	cloud = pb.Operation_OPERATION_CLOUD_INFERENCE
)

func dial(t *testing.T, s *teststack.Stack, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(s.GRPCAddr, append([]client.Option{client.WithCredential(teststack.ValidatorSecret)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestValidateAndCheckAccess(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	c := dial(t, s)
	ctx := t.Context()

	v, err := c.Validate(ctx, f.Secrets["own"])
	if err != nil {
		t.Fatal(err)
	}
	if !v.Allowed || v.Reason != pb.Reason_REASON_VALID || v.WorkspaceID != "acme" || v.UserID != "alice" || v.TokenID != f.TokenIDs["own"] || v.Anonymous() {
		t.Errorf("Validate(own) = %+v", v)
	}
	for name, want := range map[string]pb.Reason{"expired": pb.Reason_REASON_EXPIRED, "revoked": pb.Reason_REASON_REVOKED, "unknown": pb.Reason_REASON_UNKNOWN, "malformed": pb.Reason_REASON_MALFORMED, "left": pb.Reason_REASON_NOT_MEMBER, "disabled": pb.Reason_REASON_DISABLED, "capped": pb.Reason_REASON_EXPIRED} {
		v, err := c.Validate(ctx, f.Secrets[name])
		if err != nil {
			t.Fatal(err)
		}
		if v.Allowed || v.Reason != want || v.WorkspaceID != "" {
			t.Errorf("Validate(%s) = %+v; want denied with %v and no identity", name, v, want)
		}
	}
	if v, err := c.Validate(ctx, ""); err != nil || v.Allowed || v.Reason != pb.Reason_REASON_TOKEN_REQUIRED {
		t.Errorf("Validate(\"\") = %+v, %v; want TOKEN_REQUIRED", v, err)
	}

	v, err = c.CheckAccess(ctx, f.Secrets["own"], "acme/priv", cloud)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Allowed || v.WorkspaceID != "acme" || v.TokenID != f.TokenIDs["own"] {
		t.Errorf("CheckAccess(own, acme/priv) = %+v", v)
	}
	v, err = c.CheckAccess(ctx, f.Secrets["other"], "acme/priv", dl)
	if err != nil {
		t.Fatal(err)
	}
	if v.Allowed || v.Reason != pb.Reason_REASON_ZOO_NOT_FOUND {
		t.Errorf("CheckAccess(other, acme/priv) = %+v", v)
	}
	if _, err := c.CheckAccess(ctx, "", "not a zoo", dl); status.Code(err) != codes.InvalidArgument {
		t.Errorf("CheckAccess(bad zoo) = %v; want InvalidArgument", err)
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	tests := []struct {
		name string
		c    *client.Client
		want codes.Code
	}{
		{"Dial without credential", mustDial(t, s.GRPCAddr), codes.Unauthenticated},
		{"Dial with a wrong credential", mustDial(t, s.GRPCAddr, client.WithCredential("tkas_wrong")), codes.Unauthenticated},
		{"New with the validator credential", client.New(s.Conn, client.WithCredential(teststack.ValidatorSecret)), codes.OK},
		{"New without credential", client.New(s.Conn), codes.Unauthenticated},
	}
	for _, tt := range tests {
		_, err := tt.c.Validate(t.Context(), f.Secrets["own"])
		if got := status.Code(err); got != tt.want {
			t.Errorf("%s: Validate = %v; want %v", tt.name, err, tt.want)
		}
	}
}

func mustDial(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get requests url with headers and returns the status and body.
func get(t *testing.T, url string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	c := dial(t, s)
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := client.FromContext(r.Context())
		if !ok {
			http.Error(w, "no verdict", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, v.WorkspaceID+"/"+v.UserID+"/"+v.Reason.String())
	})
	mux := http.NewServeMux()
	// Any valid token.
	mux.Handle("/me", c.Middleware(nil)(who))
	// A zoo named by the path.
	mux.Handle("/models/{workspace}/{zoo}", c.Middleware(func(r *http.Request) (client.Target, error) {
		return client.Target{Zoo: r.PathValue("workspace") + "/" + r.PathValue("zoo"), Operation: dl}, nil
	})(who))
	hub := httptest.NewServer(mux)
	t.Cleanup(hub.Close)

	tests := []struct {
		name     string
		path     string
		headers  map[string]string
		status   int
		wantBody string // the handler's answer, or the denial's reason
	}{
		{"valid token header", "/me", map[string]string{"token": f.Secrets["own"]}, 200, "acme/alice/REASON_VALID"},
		{"valid bearer", "/me", map[string]string{"Authorization": "Bearer " + f.Secrets["other"]}, 200, "other/bob/REASON_VALID"},
		{"token header wins", "/me", map[string]string{"token": f.Secrets["revoked"], "Authorization": "Bearer " + f.Secrets["own"]}, 401, "REASON_REVOKED"},
		{"no token", "/me", nil, 401, "REASON_TOKEN_REQUIRED"},
		{"expired", "/me", map[string]string{"token": f.Secrets["expired"]}, 401, "REASON_EXPIRED"},
		{"public download, anonymous", "/models/acme/pub", nil, 200, "//REASON_PUBLIC"},
		{"private zoo, own", "/models/acme/priv", map[string]string{"token": f.Secrets["own"]}, 200, "acme/alice/REASON_VALID"},
		{"private zoo, other", "/models/acme/priv", map[string]string{"token": f.Secrets["other"]}, 403, "REASON_ZOO_NOT_FOUND"},
		{"bad zoo name", "/models/ACME/pub", nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := get(t, hub.URL+tt.path, tt.headers)
			if code != tt.status {
				t.Fatalf("status %d %s; want %d", code, body, tt.status)
			}
			if code == 200 {
				if body != tt.wantBody {
					t.Errorf("body %q; want %q", body, tt.wantBody)
				}
				return
			}
			var b struct{ Detail, Reason string }
			if err := json.Unmarshal([]byte(body), &b); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if b.Detail == "" || b.Reason != tt.wantBody {
				t.Errorf("body %+v; want a detail and reason %q", b, tt.wantBody)
			}
		})
	}
}

// TestMiddlewareFailsClosed stops the authority: protected requests then
// get 503, never the handler.
func TestMiddlewareFailsClosed(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens here any more
	c := mustDial(t, addr, client.WithCredential(teststack.ValidatorSecret))
	reached := false
	h := c.Middleware(nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	req.Header.Set("token", "tka_whatever")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	h.ServeHTTP(rec, req.WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable || reached {
		t.Errorf("status %d, handler reached %v; want 503 and not reached", rec.Code, reached)
	}
}

func TestInterceptor(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	c := dial(t, s)

	// A hub service: the health service stands in for any unary method.
	var mu sync.Mutex
	var seen []client.Verdict
	record := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		v, ok := client.FromContext(ctx)
		if !ok {
			return nil, status.Error(codes.Internal, "no verdict in context")
		}
		mu.Lock()
		seen = append(seen, v)
		mu.Unlock()
		return next(ctx, req)
	}
	target := func(ctx context.Context, method string, req any) (client.Target, error) {
		return client.Target{Zoo: "acme/priv", Operation: cloud}, nil
	}
	g := grpc.NewServer(grpc.ChainUnaryInterceptor(c.UnaryServerInterceptor(target), record))
	healthpb.RegisterHealthServer(g, health.NewServer())
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
	hc := healthpb.NewHealthClient(conn)

	tests := []struct {
		name string
		md   []string
		want codes.Code
	}{
		{"own token", []string{"token", f.Secrets["own"]}, codes.OK},
		{"own bearer", []string{"authorization", "Bearer " + f.Secrets["own"]}, codes.OK},
		{"none", nil, codes.PermissionDenied}, // a private zoo: indistinguishable from a missing one
		{"other workspace", []string{"token", f.Secrets["other"]}, codes.PermissionDenied},
		{"revoked", []string{"token", f.Secrets["revoked"]}, codes.Unauthenticated},
		{"malformed", []string{"authorization", "Bearer " + f.Secrets["malformed"]}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		ctx := metadata.AppendToOutgoingContext(t.Context(), tt.md...)
		_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		if got := status.Code(err); got != tt.want {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0].UserID != "alice" || seen[1].TokenID != f.TokenIDs["own"] {
		t.Errorf("verdicts reaching the handler = %+v; want alice's twice", seen)
	}
}
