package rest_test

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// created is the creation time every test service reports.
var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// workspaces answers a few WorkspaceService methods so that the HTTP layer
// can be driven without the real services.
type workspaces struct {
	pb.UnimplementedWorkspaceServiceServer
}

// CreateWorkspace echoes the request.
func (workspaces) CreateWorkspace(_ context.Context, req *pb.CreateWorkspaceRequest) (*pb.CreateWorkspaceResponse, error) {
	return &pb.CreateWorkspaceResponse{Workspace: &pb.Workspace{
		WorkspaceId: req.GetWorkspaceId(),
		DisplayName: req.GetDisplayName(),
		CreateTime:  timestamppb.New(created),
	}}, nil
}

// workspaceErrors are the answers of GetWorkspace by workspace id.
var workspaceErrors = map[string]error{
	"not-found":     status.Error(codes.NotFound, "Workspace not-found does not exist."),
	"unauthn":       status.Error(codes.Unauthenticated, "A service credential is required."),
	"invalid":       status.Error(codes.InvalidArgument, "The workspace id must match [a-z0-9][a-z0-9-]{0,62}."),
	"forbidden":     status.Error(codes.PermissionDenied, "The credential's role may not read workspaces."),
	"exists":        status.Error(codes.AlreadyExists, "Workspace exists already exists."),
	"unavailable":   status.Error(codes.Unavailable, "The store is closed."),
	"with-details":  withDetails(),
	"not-a-status":  errors.New("bbolt: page 7 of /var/lib/tokenauthority.db is corrupt"),
	"deadline":      status.Error(codes.DeadlineExceeded, "The request took too long."),
	"unimplemented": status.Error(codes.Unimplemented, "Not implemented."),
	"html":          status.Error(codes.Unauthenticated, `Send "authorization: Bearer <credential>" & retry.`),
}

func withDetails() error {
	s, err := status.New(codes.InvalidArgument, "The request has invalid fields.").WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "workspace_id", Description: "must not be empty"}},
	})
	if err != nil {
		panic(err)
	}
	return s.Err()
}

// GetWorkspace returns the error named by the id, or a workspace.
func (workspaces) GetWorkspace(_ context.Context, req *pb.GetWorkspaceRequest) (*pb.GetWorkspaceResponse, error) {
	if err, ok := workspaceErrors[req.GetWorkspaceId()]; ok {
		return nil, err
	}
	return &pb.GetWorkspaceResponse{Workspace: &pb.Workspace{
		WorkspaceId: req.GetWorkspaceId(),
		CreateTime:  timestamppb.New(created),
	}}, nil
}

// ListWorkspaces reports the authorization metadata it received as the
// next page token, which lets tests see what reached the service.
func (workspaces) ListWorkspaces(ctx context.Context, _ *pb.ListWorkspacesRequest) (*pb.ListWorkspacesResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return &pb.ListWorkspacesResponse{NextPageToken: strings.Join(md.Get("authorization"), "|")}, nil
}

// DeleteWorkspace panics, standing in for a bug in a service.
func (workspaces) DeleteWorkspace(context.Context, *pb.DeleteWorkspaceRequest) (*pb.DeleteWorkspaceResponse, error) {
	panic("deleting workspaces is broken")
}

// tokens answers a few TokenService methods.
type tokens struct {
	pb.UnimplementedTokenServiceServer
}

// GetToken returns a token with most fields unset.
func (tokens) GetToken(_ context.Context, req *pb.GetTokenRequest) (*pb.GetTokenResponse, error) {
	return &pb.GetTokenResponse{Token: &pb.Token{
		TokenId:     req.GetTokenId(),
		WorkspaceId: req.GetWorkspaceId(),
		State:       pb.TokenState_TOKEN_STATE_ACTIVE,
		CreateTime:  timestamppb.New(created),
	}}, nil
}

// CheckAccess echoes the request's fields.
func (tokens) CheckAccess(_ context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	return &pb.CheckAccessResponse{
		Allowed:     req.GetOperation() == pb.Operation_OPERATION_DOWNLOAD,
		Reason:      pb.Reason_REASON_PUBLIC,
		WorkspaceId: req.GetZoo(),
	}, nil
}

// self answers the SDK's GetTokenInfo for one known secret.
type self struct {
	pb.UnimplementedSelfServiceServer
}

// knownSecret is the one token the test SelfService knows.
const knownSecret = "dg_0123456789abcdefghijklmnopqrstuvwxyzABCD_1a2b3c4d"

func (self) GetTokenInfo(_ context.Context, req *pb.GetTokenInfoRequest) (*pb.GetTokenInfoResponse, error) {
	if req.GetToken() != knownSecret {
		return nil, status.Error(codes.Unauthenticated, "The token is not valid.")
	}
	return &pb.GetTokenInfoResponse{
		Description: "laptop",
		CreatedAt:   timestamppb.New(created),
		Expiration:  &timestamppb.Timestamp{Seconds: -62135596800},
		User:        "alice",
	}, nil
}
