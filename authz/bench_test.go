package authz_test

import (
	"io"
	"net/http"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// BenchmarkEntryPoints compares one allowed decision through each entry
// point, over loopback, with the bare cost of a gRPC call (an unregistered
// health check, answered by grpc-go itself) and of an HTTP round trip
// (/healthz) on the same servers as baselines.
func BenchmarkEntryPoints(b *testing.B) {
	s := teststack.Start(b)
	f := s.MakeFixture(b)
	own := f.Secrets["own"]
	validator := teststack.As(b.Context(), teststack.ValidatorSecret)
	envoy := authv3.NewAuthorizationClient(s.Conn)
	hc := healthpb.NewHealthClient(s.Conn)
	req := checkRequest("POST", "/zoo/v1/inference/acme/priv/run", map[string]string{"token": own}, nil)

	b.Run("grpc-baseline", func(b *testing.B) {
		for b.Loop() {
			// Unimplemented: the server registers no health service here.
			if _, err := hc.Check(b.Context(), &healthpb.HealthCheckRequest{}); err == nil {
				b.Fatal("want Unimplemented")
			}
		}
	})
	b.Run("CheckAccess", func(b *testing.B) {
		for b.Loop() {
			resp, err := s.Tokens.CheckAccess(validator, &pb.CheckAccessRequest{Secret: own, Zoo: "acme/priv", Operation: cloud})
			if err != nil || !resp.GetAllowed() {
				b.Fatal(resp, err)
			}
		}
	})
	b.Run("EnvoyCheck", func(b *testing.B) {
		for b.Loop() {
			resp, err := envoy.Check(b.Context(), req)
			if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
				b.Fatal(resp, err)
			}
		}
	})
	byExtensions := checkRequest("POST", "/v1/chat/completions", map[string]string{"token": own}, map[string]string{"zoo": "acme/priv", "operation": "cloud_inference"})
	b.Run("EnvoyCheckExtensions", func(b *testing.B) {
		for b.Loop() {
			resp, err := envoy.Check(b.Context(), byExtensions)
			if err != nil || codes.Code(resp.GetStatus().GetCode()) != codes.OK {
				b.Fatal(resp, err)
			}
		}
	})
	get := func(b *testing.B, url string, h map[string]string) {
		r, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.Run("http-baseline", func(b *testing.B) {
		for b.Loop() {
			get(b, s.HTTPURL+"/healthz", nil)
		}
	})
	b.Run("ForwardAuth", func(b *testing.B) {
		h := map[string]string{"X-Original-URI": "/zoo/v1/inference/acme/priv/run", "token": own}
		for b.Loop() {
			get(b, s.HTTPURL+"/v1/authz", h)
		}
	})
}
