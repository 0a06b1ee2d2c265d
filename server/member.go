package server

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// memberScope limits a request of an owner method (see requiredAccess) made
// by a workspace member to their own tokens in workspaces they belong to.
// Lists are filtered by their handlers (memberOf); everything else is
// checked here, before the handler runs. A request type it does not know is
// refused, so a method moved to owner without a rule here stays closed.
func (s *Server) memberScope(ctx context.Context, user string, req any) error {
	switch r := req.(type) {
	case *pb.ListWorkspacesRequest:
		return nil
	case *pb.GetSeedPollersRequest:
		// Whoever holds the seed's link may see who waits for it.
		return nil
	case *pb.ListTokensRequest:
		return s.requireMember(ctx, r.GetWorkspaceId(), user)
	case *pb.CreateTokenRequest:
		if r.GetUserId() != user {
			return status.Errorf(codes.PermissionDenied, "user_id: you are signed in as %q and may create tokens only for yourself", user)
		}
		return s.requireMember(ctx, r.GetWorkspaceId(), user)
	case interface {
		GetWorkspaceId() string
		GetTokenId() string
	}: // GetToken, RevealToken, RevokeToken, RollToken
		if err := s.requireMember(ctx, r.GetWorkspaceId(), user); err != nil {
			return err
		}
		rec, err := s.lookupByID(ctx, r.GetWorkspaceId(), r.GetTokenId())
		if err != nil {
			return err
		}
		if rec.GetToken().GetUserId() != user {
			// Other members' tokens look like tokens that do not exist.
			return status.Errorf(codes.NotFound, "token %q not found", r.GetTokenId())
		}
		return nil
	}
	return status.Error(codes.PermissionDenied, "workspace members may not call this method")
}

// requireMember refuses a request in a workspace user does not belong to.
func (s *Server) requireMember(ctx context.Context, workspaceID, user string) error {
	if err := checkID("workspace_id", workspaceID); err != nil {
		return err
	}
	_, err := s.store.GetMember(ctx, workspaceID, user)
	if errors.Is(err, storage.ErrNotFound) {
		return status.Errorf(codes.PermissionDenied, "user %q is not a member of workspace %q", user, workspaceID)
	}
	return err
}
