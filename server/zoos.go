package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (w *workspaceService) CreateZoo(ctx context.Context, req *pb.CreateZooRequest) (*pb.CreateZooResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_CreateZoo_FullMethodName, req, (*Server).createZoo)
}

func (w *workspaceService) GetZoo(ctx context.Context, req *pb.GetZooRequest) (*pb.GetZooResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_GetZoo_FullMethodName, req, (*Server).getZoo)
}

func (w *workspaceService) ListZoos(ctx context.Context, req *pb.ListZoosRequest) (*pb.ListZoosResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_ListZoos_FullMethodName, req, (*Server).listZoos)
}

func (w *workspaceService) UpdateZoo(ctx context.Context, req *pb.UpdateZooRequest) (*pb.UpdateZooResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_UpdateZoo_FullMethodName, req, (*Server).updateZoo)
}

func (w *workspaceService) DeleteZoo(ctx context.Context, req *pb.DeleteZooRequest) (*pb.DeleteZooResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_DeleteZoo_FullMethodName, req, (*Server).deleteZoo)
}

func (s *Server) createZoo(ctx context.Context, req *pb.CreateZooRequest) (*pb.CreateZooResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "zoo_id", req.GetZooId()); err != nil {
		return nil, err
	}
	if err := checkVisibility(req.GetVisibility()); err != nil {
		return nil, err
	}
	z := &pb.Zoo{WorkspaceId: req.GetWorkspaceId(), ZooId: req.GetZooId(), Visibility: req.GetVisibility(), CreateTime: timestamppb.New(s.now())}
	if err := s.store.CreateZoo(ctx, z); err != nil {
		return nil, err
	}
	return &pb.CreateZooResponse{Zoo: z}, nil
}

func (s *Server) getZoo(ctx context.Context, req *pb.GetZooRequest) (*pb.GetZooResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "zoo_id", req.GetZooId()); err != nil {
		return nil, err
	}
	z, err := s.store.GetZoo(ctx, req.GetWorkspaceId(), req.GetZooId())
	if err != nil {
		return nil, err
	}
	return &pb.GetZooResponse{Zoo: z}, nil
}

func (s *Server) listZoos(ctx context.Context, req *pb.ListZoosRequest) (*pb.ListZoosResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	kind := "zoos/" + req.GetWorkspaceId()
	limit, after, err := listArgs(req.GetPageSize(), kind, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListZoos(ctx, req.GetWorkspaceId(), after, limit+1)
	if err != nil {
		return nil, err
	}
	items, next := page(items, limit, kind, (*pb.Zoo).GetZooId)
	return &pb.ListZoosResponse{Zoos: items, NextPageToken: next}, nil
}

func (s *Server) updateZoo(ctx context.Context, req *pb.UpdateZooRequest) (*pb.UpdateZooResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "zoo_id", req.GetZooId()); err != nil {
		return nil, err
	}
	if err := checkVisibility(req.GetVisibility()); err != nil {
		return nil, err
	}
	z, err := s.store.UpdateZoo(ctx, req.GetWorkspaceId(), req.GetZooId(), req.GetVisibility())
	if err != nil {
		return nil, err
	}
	return &pb.UpdateZooResponse{Zoo: z}, nil
}

func (s *Server) deleteZoo(ctx context.Context, req *pb.DeleteZooRequest) (*pb.DeleteZooResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "zoo_id", req.GetZooId()); err != nil {
		return nil, err
	}
	if err := s.store.DeleteZoo(ctx, req.GetWorkspaceId(), req.GetZooId()); err != nil {
		return nil, err
	}
	return &pb.DeleteZooResponse{}, nil
}

func checkVisibility(v pb.Visibility) error {
	if v != pb.Visibility_VISIBILITY_PUBLIC && v != pb.Visibility_VISIBILITY_PRIVATE {
		return invalid("visibility", "must be VISIBILITY_PUBLIC or VISIBILITY_PRIVATE")
	}
	return nil
}
