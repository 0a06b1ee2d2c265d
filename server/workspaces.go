package server

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// workspaceService implements pb.WorkspaceServiceServer.
type workspaceService struct {
	pb.UnimplementedWorkspaceServiceServer
	s *Server
}

func (w *workspaceService) CreateWorkspace(ctx context.Context, req *pb.CreateWorkspaceRequest) (*pb.CreateWorkspaceResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_CreateWorkspace_FullMethodName, req, (*Server).createWorkspace)
}

func (w *workspaceService) GetWorkspace(ctx context.Context, req *pb.GetWorkspaceRequest) (*pb.GetWorkspaceResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_GetWorkspace_FullMethodName, req, (*Server).getWorkspace)
}

func (w *workspaceService) ListWorkspaces(ctx context.Context, req *pb.ListWorkspacesRequest) (*pb.ListWorkspacesResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_ListWorkspaces_FullMethodName, req, (*Server).listWorkspaces)
}

func (w *workspaceService) DeleteWorkspace(ctx context.Context, req *pb.DeleteWorkspaceRequest) (*pb.DeleteWorkspaceResponse, error) {
	return handle(ctx, w.s, pb.WorkspaceService_DeleteWorkspace_FullMethodName, req, (*Server).deleteWorkspace)
}

func (s *Server) createWorkspace(ctx context.Context, req *pb.CreateWorkspaceRequest) (*pb.CreateWorkspaceResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	if err := checkText("display_name", req.GetDisplayName(), maxDescription); err != nil {
		return nil, err
	}
	ws := &pb.Workspace{WorkspaceId: req.GetWorkspaceId(), DisplayName: req.GetDisplayName(), CreateTime: timestamppb.New(s.now())}
	if err := s.store.CreateWorkspace(ctx, ws); err != nil {
		return nil, err
	}
	return &pb.CreateWorkspaceResponse{Workspace: ws}, nil
}

func (s *Server) getWorkspace(ctx context.Context, req *pb.GetWorkspaceRequest) (*pb.GetWorkspaceResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	ws, err := s.store.GetWorkspace(ctx, req.GetWorkspaceId())
	if err != nil {
		return nil, err
	}
	return &pb.GetWorkspaceResponse{Workspace: ws}, nil
}

func (s *Server) listWorkspaces(ctx context.Context, req *pb.ListWorkspacesRequest) (*pb.ListWorkspacesResponse, error) {
	const kind = "workspaces"
	limit, after, err := listArgs(req.GetPageSize(), kind, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	items, err := s.listWorkspaceItems(ctx, after, limit+1)
	if err != nil {
		return nil, err
	}
	items, next := page(items, limit, kind, (*pb.Workspace).GetWorkspaceId)
	return &pb.ListWorkspacesResponse{Workspaces: items, NextPageToken: next}, nil
}

// listWorkspaceItems returns up to limit workspaces after the id after. For
// a workspace member it keeps only the workspaces they belong to, reading on
// until it has limit of them or there are no more.
func (s *Server) listWorkspaceItems(ctx context.Context, after string, limit int) ([]*pb.Workspace, error) {
	user := memberOf(ctx)
	var out []*pb.Workspace
	for {
		items, err := s.store.ListWorkspaces(ctx, after, limit)
		if err != nil || user == "" {
			return items, err
		}
		for _, ws := range items {
			_, err := s.store.GetMember(ctx, ws.GetWorkspaceId(), user)
			switch {
			case err == nil:
				out = append(out, ws)
			case !errors.Is(err, storage.ErrNotFound):
				return nil, err
			}
		}
		if len(out) >= limit || len(items) < limit {
			return out, nil
		}
		after = items[len(items)-1].GetWorkspaceId()
	}
}

func (s *Server) deleteWorkspace(ctx context.Context, req *pb.DeleteWorkspaceRequest) (*pb.DeleteWorkspaceResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	if err := s.store.DeleteWorkspace(ctx, req.GetWorkspaceId(), req.GetForce()); err != nil {
		return nil, err
	}
	return &pb.DeleteWorkspaceResponse{}, nil
}

// listArgs checks page_size and page_token of a list request.
func listArgs(size int32, kind, token string) (limit int, after string, err error) {
	if limit, err = pageSize(size); err != nil {
		return 0, "", err
	}
	after, err = decodePage(kind, token)
	return limit, after, err
}

// page cuts items (fetched with limit+1) to limit and returns the token of the
// next page, empty when there is none.
func page[T any](items []T, limit int, kind string, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodePage(kind, key(items[limit-1]))
}
