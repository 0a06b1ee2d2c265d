package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// The lifecycle methods below are declared in the API and guarded by the
// authorization table; until they are built they answer Unimplemented, and
// only after the caller has been authorized.

func notBuilt[Req, Resp any](context.Context, Req) (Resp, error) {
	var zero Resp
	return zero, status.Error(codes.Unimplemented, "this method is not available yet")
}

func (t *tokenService) RevokeTokens(ctx context.Context, req *pb.RevokeTokensRequest) (*pb.RevokeTokensResponse, error) {
	return handle(ctx, t.s, pb.TokenService_RevokeTokens_FullMethodName, req, notBuilt[*pb.RevokeTokensRequest, *pb.RevokeTokensResponse])
}

func (t *tokenService) ReportLeakedTokens(ctx context.Context, req *pb.ReportLeakedTokensRequest) (*pb.ReportLeakedTokensResponse, error) {
	return handle(ctx, t.s, pb.TokenService_ReportLeakedTokens_FullMethodName, req, notBuilt[*pb.ReportLeakedTokensRequest, *pb.ReportLeakedTokensResponse])
}
