package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/metrics"
)

func (s *Server) validateToken(ctx context.Context, req *pb.ValidateTokenRequest) (*pb.ValidateTokenResponse, error) {
	if req.GetSecret() == "" {
		return nil, invalid("secret", "is required")
	}
	v, err := s.access.Resolve(ctx, req.GetSecret())
	if err != nil {
		return nil, err
	}
	s.metrics.ObserveDecision(metrics.KindValidate, v.Reason)
	resp := &pb.ValidateTokenResponse{Valid: v.Valid(), Reason: v.Reason}
	if t := v.Token(); t != nil {
		// The verdict's token is the caller's own: its view differs from
		// the stored token only in its state and its end (see fillView).
		t.State = lifecycle.StateUnder(t, v.Policy, v.At)
		t.EffectiveExpireTime = endTime(t, v.Policy)
		resp.Token = t
	}
	return resp, nil
}

func (s *Server) checkAccess(ctx context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	workspaceID, zooID, err := parseZoo(req.GetZoo())
	if err != nil {
		return nil, err
	}
	op := req.GetOperation()
	if op != pb.Operation_OPERATION_DOWNLOAD && op != pb.Operation_OPERATION_CLOUD_INFERENCE {
		return nil, invalid("operation", "must be OPERATION_DOWNLOAD or OPERATION_CLOUD_INFERENCE")
	}
	d, err := s.access.Decide(ctx, access.Request{Secret: req.GetSecret(), WorkspaceID: workspaceID, ZooID: zooID, Operation: op})
	if err != nil {
		return nil, err
	}
	s.metrics.ObserveDecision(metrics.KindAccess, d.Reason)
	return checkAccessResponse(d), nil
}

// checkAccessResponse renders a decision as the gRPC API answers it.
func checkAccessResponse(d access.Decision) *pb.CheckAccessResponse {
	resp := &pb.CheckAccessResponse{
		Allowed:     d.Allowed,
		Reason:      d.Reason,
		WorkspaceId: d.WorkspaceID,
		TokenId:     d.TokenID,
		UserId:      d.UserID,
	}
	if !d.ExpireTime.IsZero() {
		resp.ExpireTime = timestamppb.New(d.ExpireTime)
	}
	return resp
}

// parseZoo splits "workspace/zoo".
func parseZoo(zoo string) (workspaceID, zooID string, err error) {
	workspaceID, zooID, err = access.ParseZoo(zoo)
	if err != nil {
		return "", "", invalid("zoo", access.ZooRule)
	}
	return workspaceID, zooID, nil
}
