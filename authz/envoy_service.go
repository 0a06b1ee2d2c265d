package authz

import (
	"context"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
)

// RegisterEnvoy registers Envoy's ext_authz Authorization service on r,
// answering Check with check: a Gateway's Check behind the guard of the
// server r serves (daemon passes server.Guarded(srv,
// server.EnvoyCheckMethod, gw.Check)). That server should decode with
// EnvoyCodec.
func RegisterEnvoy(r grpc.ServiceRegistrar, check func(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error)) {
	authv3.RegisterAuthorizationServer(r, envoyService{check: check})
}

type envoyService struct {
	authv3.UnimplementedAuthorizationServer
	check func(context.Context, *authv3.CheckRequest) (*authv3.CheckResponse, error)
}

func (x envoyService) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	return x.check(ctx, req)
}
