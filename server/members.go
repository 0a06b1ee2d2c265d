package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (w *workspaceService) AddMember(ctx context.Context, req *pb.AddMemberRequest) (*pb.AddMemberResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_AddMember_FullMethodName, req, (*Server).addMember)
}

func (w *workspaceService) GetMember(ctx context.Context, req *pb.GetMemberRequest) (*pb.GetMemberResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_GetMember_FullMethodName, req, (*Server).getMember)
}

func (w *workspaceService) ListMembers(ctx context.Context, req *pb.ListMembersRequest) (*pb.ListMembersResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_ListMembers_FullMethodName, req, (*Server).listMembers)
}

func (w *workspaceService) RemoveMember(ctx context.Context, req *pb.RemoveMemberRequest) (*pb.RemoveMemberResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_RemoveMember_FullMethodName, req, (*Server).removeMember)
}

func (s *Server) addMember(ctx context.Context, req *pb.AddMemberRequest) (*pb.AddMemberResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	m := &pb.Member{WorkspaceId: req.GetWorkspaceId(), UserId: req.GetUserId(), CreateTime: timestamppb.New(s.now())}
	if err := s.store.AddMember(ctx, m); err != nil {
		return nil, err
	}
	return &pb.AddMemberResponse{Member: m}, nil
}

func (s *Server) getMember(ctx context.Context, req *pb.GetMemberRequest) (*pb.GetMemberResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	m, err := s.store.GetMember(ctx, req.GetWorkspaceId(), req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &pb.GetMemberResponse{Member: m}, nil
}

func (s *Server) listMembers(ctx context.Context, req *pb.ListMembersRequest) (*pb.ListMembersResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	kind := "members/" + req.GetWorkspaceId()
	limit, after, err := listArgs(req.GetPageSize(), kind, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListMembers(ctx, req.GetWorkspaceId(), after, limit+1)
	if err != nil {
		return nil, err
	}
	items, next := page(items, limit, kind, (*pb.Member).GetUserId)
	return &pb.ListMembersResponse{Members: items, NextPageToken: next}, nil
}

func (s *Server) removeMember(ctx context.Context, req *pb.RemoveMemberRequest) (*pb.RemoveMemberResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	n, err := s.store.RemoveMember(ctx, req.GetWorkspaceId(), req.GetUserId(), s.now())
	if err != nil {
		return nil, err
	}
	return &pb.RemoveMemberResponse{RevokedTokenCount: int32(n)}, nil
}

// checkIDs checks pairs of (field, id).
func checkIDs(fieldsAndIDs ...string) error {
	for i := 0; i+1 < len(fieldsAndIDs); i += 2 {
		if err := checkID(fieldsAndIDs[i], fieldsAndIDs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
