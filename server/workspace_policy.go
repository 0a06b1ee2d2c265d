package server

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

func (w *workspaceService) UpdateWorkspace(ctx context.Context, req *pb.UpdateWorkspaceRequest) (*pb.UpdateWorkspaceResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_UpdateWorkspace_FullMethodName, req, (*Server).updateWorkspace)
}

// policyPaths are the update_mask paths of UpdateWorkspace under
// token_policy.
var policyPaths = []string{"max_lifetime", "default_lifetime", "require_expiry", "max_family_lifetime"}

func (s *Server) updateWorkspace(ctx context.Context, req *pb.UpdateWorkspaceRequest) (*pb.UpdateWorkspaceResponse, error) {
	in := req.GetWorkspace()
	if in == nil {
		return nil, invalid("workspace", "is required")
	}
	if err := checkID("workspace.workspace_id", in.GetWorkspaceId()); err != nil {
		return nil, err
	}
	allowed := []string{"display_name", "token_policy"}
	for _, p := range policyPaths {
		allowed = append(allowed, "token_policy."+p)
	}
	paths, err := maskPaths(req.GetUpdateMask().GetPaths(), allowed)
	if err != nil {
		return nil, err
	}
	if slices.Contains(paths, "display_name") {
		if err := checkText("workspace.display_name", in.GetDisplayName(), maxDescription); err != nil {
			return nil, err
		}
	}
	ws, err := s.store.UpdateWorkspace(ctx, in.GetWorkspaceId(), func(ws *pb.Workspace) error {
		for _, p := range paths {
			applyWorkspacePath(ws, in, p)
		}
		if ws.TokenPolicy != nil && proto.Size(ws.TokenPolicy) == 0 {
			ws.TokenPolicy = nil
		}
		var le *lifecycle.LimitError
		if err := lifecycle.CheckPolicy(ws.GetTokenPolicy(), s.maxLife); errors.As(err, &le) {
			return invalid("workspace."+le.Field, "%s", le.Reason)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateWorkspaceResponse{Workspace: ws}, nil
}

// applyWorkspacePath copies one checked mask path from in to ws.
func applyWorkspacePath(ws, in *pb.Workspace, path string) {
	if path == "display_name" {
		ws.DisplayName = in.GetDisplayName()
		return
	}
	if path == "token_policy" {
		ws.TokenPolicy = proto.CloneOf(in.GetTokenPolicy())
		return
	}
	if ws.TokenPolicy == nil {
		ws.TokenPolicy = &pb.TokenPolicy{}
	}
	dst, src := ws.TokenPolicy, in.GetTokenPolicy()
	clone := func(d *durationpb.Duration) *durationpb.Duration {
		if d == nil {
			return nil
		}
		return proto.CloneOf(d)
	}
	switch path {
	case "token_policy.max_lifetime":
		dst.MaxLifetime = clone(src.GetMaxLifetime())
	case "token_policy.default_lifetime":
		dst.DefaultLifetime = clone(src.GetDefaultLifetime())
	case "token_policy.require_expiry":
		dst.RequireExpiry = src.GetRequireExpiry()
	case "token_policy.max_family_lifetime":
		dst.MaxFamilyLifetime = clone(src.GetMaxFamilyLifetime())
	}
}
