package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/audit"
	"tokenauthority/principal"
)

// handle runs one RPC: authorize the caller for method, hold the methods
// that need no credential (public ones, open gateway decisions) to their
// per-address rate limits, run fn with the method's audit event (if
// any) in its context, and map its error to a status. Every handler goes
// through it, on gRPC and through the REST gateway alike.
//
// fn is a method expression ((*Server).validateToken), not a method value
// (s.validateToken): a method value is a closure, which the compiler may
// allocate on every call.
func handle[Req, Resp any](ctx context.Context, s *Server, method string, req Req, fn func(*Server, context.Context, Req) (Resp, error)) (Resp, error) {
	var zero Resp
	action, ok := auditAction(method)
	if !ok {
		return zero, status.Errorf(codes.PermissionDenied, "method %s has no audit action and is not open to any caller", method)
	}
	p, err := s.authorize(ctx, method)
	if err != nil {
		return zero, err
	}
	if err := s.limitOpen(ctx, method); err != nil {
		return zero, s.toStatus(ctx, method, err)
	}
	if p.Member != "" {
		if err := s.memberScope(ctx, p.Member, req); err != nil {
			return zero, s.toStatus(ctx, method, err)
		}
	}
	if a := requiredAccess(method); a == owner || a == admin {
		// Only these handlers read the caller from the context (memberOf,
		// revokeReason); public and validator methods run without it, which
		// spares the hottest calls a context value. Audit events get p
		// directly.
		ctx = principal.NewContext(ctx, p)
	}
	var pending *audit.Pending
	if action != notAudited {
		ctx, pending = audit.NewContext(ctx, s.newEvent(ctx, action, p, req))
	}
	resp, err := fn(s, ctx, req)
	// A call can fail after its event was committed (a refresh that finds
	// its token reused revokes the family and fails): copy it either way.
	if ev := pending.Recorded(); ev != nil {
		s.auditLog.write(ctx, ev)
	}
	if err != nil {
		return zero, s.toStatus(ctx, method, err)
	}
	return resp, nil
}

// memberOf returns the workspace member a request of ctx acts for, or ""
// when a service credential (which sees everything) authorized it.
func memberOf(ctx context.Context) string {
	p, _ := principal.FromContext(ctx)
	return p.Member
}
