package authz

import (
	"context"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"tokenauthority/tracing"
)

// TracedCheck returns g's Check continuing, in a span of its own, the
// trace that the checked HTTP request's traceparent names
// (tracing.StartFromHeaders): Envoy passes its client's request headers,
// traceparent among them, also when it does not trace the Check call
// itself. With t nil it is g.Check.
func (g *Gateway) TracedCheck(t *tracing.Tracing) func(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	if t == nil {
		return g.Check
	}
	return func(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
		h := req.GetAttributes().GetRequest().GetHttp()
		ctx, span := t.StartFromHeaders(ctx, "envoy ext_authz Check", func(name string) string { return envoyHeader(h, name) })
		if span != nil {
			defer span.End()
		}
		return g.Check(ctx, req)
	}
}
