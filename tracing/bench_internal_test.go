package tracing

import (
	"context"
	"net"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"
)

// ratioTracing is tracing on, sampling ratio of the root spans, exporting
// to memory that is dropped.
func ratioTracing(ratio float64) *Tracing {
	sampler := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sampler),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSpanProcessor(redactor{sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter())}),
	)
	return newTracing(tp, sampler)
}

// BenchmarkGRPCUnary is a unary call through a gRPC server over an
// in-memory connection, without tracing and with it on at 1%: the cost
// tracing adds to every call, sampled or not. The service is health's
// under another name: the health service itself is never traced.
func BenchmarkGRPCUnary(b *testing.B) {
	for _, bc := range []struct {
		name string
		t    *Tracing
	}{
		{"off", nil},
		{"on-1%", ratioTracing(0.01)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := bufconn.Listen(1 << 20)
			// As the server's interceptor does.
			s := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
				ctx, end := bc.t.StartCall(ctx, info.FullMethod)
				resp, err := next(ctx, req)
				if end != nil {
					end(err)
				}
				return resp, err
			}))
			hs := health.NewServer()
			// Registered under another name, so the health filter lets
			// it through.
			desc := healthpb.Health_ServiceDesc
			desc.ServiceName = "bench.Health"
			s.RegisterService(&desc, hs)
			go s.Serve(l)
			defer s.Stop()
			conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			ctx := context.Background()
			req, resp := &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := conn.Invoke(ctx, "/bench.Health/Check", req, resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
