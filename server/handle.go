package server

import (
	"context"
)

// handle runs one RPC: authorize the caller for method, hold public methods
// to the per-address rate limit, run fn, and map its error to a status.
// Every handler goes through it, on gRPC and through the REST gateway
// alike.
func handle[Req, Resp any](ctx context.Context, s *Server, method string, req Req, fn func(context.Context, Req) (Resp, error)) (Resp, error) {
	var zero Resp
	p, err := s.authorize(ctx, method)
	if err != nil {
		return zero, err
	}
	if requiredAccess(method) == public {
		if err := s.limitClient(ctx); err != nil {
			return zero, s.toStatus(ctx, method, err)
		}
	}
	if p.member != "" {
		if err := s.memberScope(ctx, p.member, req); err != nil {
			return zero, s.toStatus(ctx, method, err)
		}
	}
	if a := requiredAccess(method); a == owner || a == admin {
		// Only these handlers read the caller (memberOf, callerName in
		// audit records); public and validator methods run without it,
		// which spares the hottest calls a context value.
		ctx = withPrincipal(ctx, p)
	}
	resp, err := fn(ctx, req)
	if err != nil {
		return zero, s.toStatus(ctx, method, err)
	}
	return resp, nil
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// memberOf returns the workspace member a request of ctx acts for, or ""
// when a service credential (which sees everything) authorized it.
func memberOf(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p.member
}

// callerName names the authenticated caller of ctx for audit logs.
func callerName(ctx context.Context) string {
	p, _ := ctx.Value(principalKey{}).(principal)
	if p.name == "" {
		return "self-service"
	}
	return p.name
}
