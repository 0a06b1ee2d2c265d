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

func (t *tokenService) UpdateToken(ctx context.Context, req *pb.UpdateTokenRequest) (*pb.UpdateTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_UpdateToken_FullMethodName, req, notBuilt[*pb.UpdateTokenRequest, *pb.UpdateTokenResponse])
}

func (t *tokenService) RollToken(ctx context.Context, req *pb.RollTokenRequest) (*pb.RollTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_RollToken_FullMethodName, req, notBuilt[*pb.RollTokenRequest, *pb.RollTokenResponse])
}

func (w *workspaceService) UpdateWorkspace(ctx context.Context, req *pb.UpdateWorkspaceRequest) (*pb.UpdateWorkspaceResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_UpdateWorkspace_FullMethodName, req, notBuilt[*pb.UpdateWorkspaceRequest, *pb.UpdateWorkspaceResponse])
}
