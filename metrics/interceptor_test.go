package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/metrics"
)

func TestUnaryServerInterceptor(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	intercept := metrics.New(reg).UnaryServerInterceptor()

	calls := []struct {
		method string
		err    error
	}{
		{"/tokenauthority.v1.TokenService/GetToken", nil},
		{"/tokenauthority.v1.TokenService/GetToken", status.Error(codes.NotFound, "no such token")},
		{"/tokenauthority.v1.TokenService/GetToken", status.Error(codes.PermissionDenied, "not an admin")},
		{"/tokenauthority.v1.SelfService/GetTokenInfo", status.Error(codes.Unauthenticated, "invalid token")},
		{"/tokenauthority.v1.SelfService/GetTokenInfo", context.Canceled},
	}
	for _, c := range calls {
		info := &grpc.UnaryServerInfo{FullMethod: c.method}
		resp, err := intercept(context.Background(), "req", info, func(ctx context.Context, req any) (any, error) {
			return "resp", c.err
		})
		if resp != "resp" || err != c.err {
			t.Errorf("interceptor returned (%v, %v), want the handler's (resp, %v)", resp, err, c.err)
		}
	}

	want := `
# HELP tokenauthority_requests_total Requests answered, by transport, method (gRPC full method or HTTP route pattern) and code.
# TYPE tokenauthority_requests_total counter
tokenauthority_requests_total{code="Canceled",method="/tokenauthority.v1.SelfService/GetTokenInfo",transport="grpc"} 1
tokenauthority_requests_total{code="Unauthenticated",method="/tokenauthority.v1.SelfService/GetTokenInfo",transport="grpc"} 1
tokenauthority_requests_total{code="NotFound",method="/tokenauthority.v1.TokenService/GetToken",transport="grpc"} 1
tokenauthority_requests_total{code="OK",method="/tokenauthority.v1.TokenService/GetToken",transport="grpc"} 1
tokenauthority_requests_total{code="PermissionDenied",method="/tokenauthority.v1.TokenService/GetToken",transport="grpc"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tokenauthority_requests_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.CollectAndCount(reg, "tokenauthority_request_duration_seconds"); got != 2 {
		t.Errorf("request_duration_seconds series = %d, want 2", got)
	}
}

func TestUnaryServerInterceptorNil(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	resp, err := m.UnaryServerInterceptor()(context.Background(), "req", &grpc.UnaryServerInfo{FullMethod: "/x/Y"},
		func(ctx context.Context, req any) (any, error) { return "resp", nil })
	if resp != "resp" || err != nil {
		t.Errorf("nil interceptor returned (%v, %v), want (resp, <nil>)", resp, err)
	}
}
