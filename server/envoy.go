package server

import (
	"context"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

	"tokenauthority/authz"
)

// envoyService implements Envoy's ext_authz Authorization service over the
// gateway adapter, behind the same authorization table and error mapping
// as every other method.
type envoyService struct {
	authv3.UnimplementedAuthorizationServer
	s *Server
}

func (x *envoyService) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return handle(ctx, x.s, authv3.Authorization_Check_FullMethodName, req, envoyCheck)
}

func envoyCheck(s *Server, ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	// Envoy passes its client's request headers, traceparent among them,
	// also when it does not trace the Check call itself.
	ctx, span := s.tracing.StartFromHeaders(ctx, "envoy ext_authz Check", func(name string) string {
		return authz.EnvoyHeader(req.GetAttributes().GetRequest().GetHttp(), name)
	})
	if span != nil {
		defer span.End()
	}
	return s.gateway.Check(ctx, req)
}
