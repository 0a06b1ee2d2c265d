package metrics

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// UnaryServerInterceptor records every unary gRPC call with ObserveRequest,
// labelled by full method name and the gRPC code name of its outcome. Calls
// served through the REST gateway in-process do not pass through it; the
// REST layer records those with transport "http".
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m == nil {
			return handler(ctx, req)
		}
		start := time.Now()
		resp, err := handler(ctx, req)
		m.ObserveRequest(TransportGRPC, info.FullMethod, CodeOf(err).String(), time.Since(start))
		return resp, err
	}
}

// CodeOf is the gRPC code the client receives for a handler's error, the
// code a gRPC request is recorded with: the server converts a non-status
// error the same way, so a bare context.Canceled is Canceled, not Unknown.
func CodeOf(err error) codes.Code {
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return status.FromContextError(err).Code()
}
