package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/metrics"
	"tokenauthority/principal"
)

// unary is the server's one unary interceptor, which does in this order
// what a chain of five would (grpc-go allocates a closure per link on
// every call): marks the request as read (requestRead), answers a request
// the codec could not decode (decodeFailures), then logs the call
// (logCall), records it in the metrics, traces it when tracing is on and
// the call sampled (tracing.StartCall), and turns a panic in the handler
// into an Internal error (recoverUnary), innermost so that the log line,
// the metrics and the span see that error.
func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	stopReadTimer(ctx)
	start := time.Now()
	var endSpan func(error)
	if s.tracing != nil {
		ctx, endSpan = s.tracing.StartCall(ctx, info.FullMethod)
	}
	// A request the codec could not decode is answered with its
	// InvalidArgument status, never handled.
	var resp any
	err := s.codec.failed.take(req)
	if err == nil {
		resp, err = s.recoverUnary(ctx, req, info, next)
	}
	if endSpan != nil {
		endSpan(err)
	}
	d := time.Since(start)
	s.metrics.ObserveRequest(metrics.TransportGRPC, info.FullMethod, metrics.CodeOf(err).String(), d)
	s.logCall(ctx, info.FullMethod, err, d)
	return resp, err
}

// logCall logs a gRPC call: Debug when it went well or was the caller's
// fault, Error when the server failed. Requests are never logged: they can
// hold secrets.
func (s *Server) logCall(ctx context.Context, method string, err error, d time.Duration) {
	code := status.Code(err)
	level := principal.LogLevel(code)
	if s.log.Enabled(ctx, level) {
		s.log.LogAttrs(ctx, level, "grpc request",
			slog.String("method", method),
			slog.String("code", code.String()),
			slog.Duration("duration", d))
	}
}

// recoverUnary turns a panic in a handler into an Internal error, so one bad
// request cannot take the server down.
func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "panic in handler",
				slog.String("method", info.FullMethod),
				slog.Any("panic", r),
				slog.String("stack", string(debug.Stack())))
			resp, err = nil, status.Error(codes.Internal, "internal error")
		}
	}()
	return next(ctx, req)
}
