package server_test

import (
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/usage"
)

// The hot paths over a real loopback gRPC connection and a real bbolt file,
// side by side with a bare health check on the same server as the baseline:
// the difference is what the authority itself costs per call.
//
//	go test ./server -run XXX -bench . -benchtime 20000x
func BenchmarkHotPaths(b *testing.B) {
	e := newBenchEnv(b)
	e.workspace(b, "acme", []string{"alice"}, map[string]pb.Visibility{"priv": private})
	var secret string
	for i := 0; i < 1000; i++ { // a store with some tokens in it
		_, secret = e.token(b, "acme", "alice", nil)
	}
	ctx := as(b.Context(), validatorSecret)
	healthClient := healthpb.NewHealthClient(e.conn(b))

	b.Run("baseline=health", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := healthClient.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("ValidateToken", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				v, err := e.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret})
				if err != nil || !v.GetValid() {
					b.Errorf("ValidateToken = %v, %v", v, err)
					return
				}
			}
		})
	})
	// The same call on a server that records last use: the difference is
	// what usage.Recorder.Seen costs on the hot path.
	withRec := newEnvWith(b, nil, withUsage(new(*usage.Recorder), new(*writeLog)))
	withRec.workspace(b, "acme", []string{"alice"}, nil)
	_, recSecret := withRec.token(b, "acme", "alice", nil)
	b.Run("ValidateToken/recording-last-use", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				v, err := withRec.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: recSecret})
				if err != nil || !v.GetValid() {
					b.Errorf("ValidateToken = %v, %v", v, err)
					return
				}
			}
		})
	})
	b.Run("ValidateToken/malformed", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if _, err := e.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: "tka_not-a-token"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// Envoy's Check for the same zoo and operation, as its ext_authz filter
	// asks (the default gateway rules map the path to acme/priv).
	authzClient := authv3.NewAuthorizationClient(e.conn(b))
	check := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{
			Method: "POST", Path: "/zoo/v1/inference/acme/priv/v1/chat/completions",
			Headers: map[string]string{"authorization": "Bearer " + secret, ":authority": "hub.example", "user-agent": "python-requests/2.32.3"},
		},
	}}}
	b.Run("ext_authz Check", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				r, err := authzClient.Check(b.Context(), check)
				if err != nil || r.GetStatus().GetCode() != 0 {
					b.Errorf("Check = %v, %v", r, err)
					return
				}
			}
		})
	})
	b.Run("CheckAccess", func(b *testing.B) {
		req := &pb.CheckAccessRequest{Secret: secret, Zoo: "acme/priv", Operation: cloud}
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				a, err := e.tokens.CheckAccess(ctx, req)
				if err != nil || !a.GetAllowed() {
					b.Errorf("CheckAccess = %v, %v", a, err)
					return
				}
			}
		})
	})
}

// newBenchEnv is newEnv with a health service registered beside the API.
func newBenchEnv(b *testing.B) *env {
	return newEnvWith(b, func(reg registrar) { healthpb.RegisterHealthServer(reg, health.NewServer()) })
}
