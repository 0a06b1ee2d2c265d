package server

import "context"

// EnvoyCheckMethod is Envoy's ext_authz Check, by its full gRPC name. The
// server does not implement it (package authz does, and daemon registers
// it through Guarded), but its tables guard it: a gateway method, open
// unless Config.GatewayCredential, under the gateway limiter, not audited.
const EnvoyCheckMethod = "/envoy.service.auth.v3.Authorization/Check"

// Guarded returns fn, the handler of a method that another package
// implements and is registered beside the server's services (Envoy's
// Check), running behind the server's authorization table, per-address
// limits and error mapping, as the server's own methods run (handle). A
// method missing from the tables is refused.
func Guarded[Req, Resp any](s *Server, method string, fn func(context.Context, Req) (Resp, error)) func(context.Context, Req) (Resp, error) {
	return func(ctx context.Context, req Req) (Resp, error) {
		return handle(ctx, s, method, req, func(_ *Server, ctx context.Context, req Req) (Resp, error) { return fn(ctx, req) })
	}
}
