package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// maxAuditScan bounds how many stored events one ListAuditEvents page reads,
// so that a filter matching little of a long log answers in bounded time
// (with a short page and a next_page_token).
const maxAuditScan = 10000

// auditService implements pb.AuditServiceServer.
type auditService struct {
	pb.UnimplementedAuditServiceServer
	s *Server
}

func (a *auditService) ListAuditEvents(ctx context.Context, req *pb.ListAuditEventsRequest) (*pb.ListAuditEventsResponse, error) {
	return handle(ctx, a.s, pb.AuditService_ListAuditEvents_FullMethodName, req, (*Server).listAuditEvents)
}

func (a *auditService) VerifyAuditLog(ctx context.Context, req *pb.VerifyAuditLogRequest) (*pb.VerifyAuditLogResponse, error) {
	return handle(ctx, a.s, pb.AuditService_VerifyAuditLog_FullMethodName, req, (*Server).verifyAuditLog)
}

func (s *Server) listAuditEvents(ctx context.Context, req *pb.ListAuditEventsRequest) (*pb.ListAuditEventsResponse, error) {
	f, err := auditFilter(req)
	if err != nil {
		return nil, err
	}
	kind := auditPageKind(f)
	limit, last, err := listArgs(req.GetPageSize(), kind, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	events, next, err := s.store.ListAuditEvents(ctx, f, last, limit, maxAuditScan)
	if errors.Is(err, storage.ErrInvalid) {
		return nil, invalid("page_token", "is not a page token returned by this list")
	}
	if err != nil {
		return nil, err
	}
	resp := &pb.ListAuditEventsResponse{Events: events}
	if next != "" {
		resp.NextPageToken = encodePage(kind, next)
	}
	return resp, nil
}

// auditFilter checks the filters of a list request.
func auditFilter(req *pb.ListAuditEventsRequest) (audit.Filter, error) {
	f := audit.Filter{WorkspaceID: req.GetWorkspaceId(), Actor: req.GetActor(), Action: req.GetAction()}
	if f.WorkspaceID != "" {
		if err := checkID("workspace_id", f.WorkspaceID); err != nil {
			return f, err
		}
	}
	if err := checkText("actor", f.Actor, maxDescription); err != nil {
		return f, err
	}
	if err := checkText("action", f.Action, access.MaxIDLen); err != nil {
		return f, err
	}
	var err error
	if f.Start, err = optionalTime("start_time", req.GetStartTime()); err != nil {
		return f, err
	}
	if f.End, err = optionalTime("end_time", req.GetEndTime()); err != nil {
		return f, err
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
		return f, invalid("end_time", "must be after start_time")
	}
	return f, nil
}

func optionalTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, invalid(field, "is not a valid timestamp")
	}
	return ts.AsTime(), nil
}

// auditPageKind ties a page token to the filters it was issued for.
func auditPageKind(f audit.Filter) string {
	h := sha256.New()
	for _, s := range []string{f.WorkspaceID, f.Actor, f.Action, stamp(f.Start), stamp(f.End)} {
		h.Write([]byte(strconv.Itoa(len(s)) + ":" + s))
	}
	return "audit/" + hex.EncodeToString(h.Sum(nil)[:8])
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (s *Server) verifyAuditLog(ctx context.Context, _ *pb.VerifyAuditLogRequest) (*pb.VerifyAuditLogResponse, error) {
	res, err := s.VerifyAuditChain(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.VerifyAuditLogResponse{Ok: res.OK, EventsChecked: res.Checked, FirstBrokenSequence: res.FirstBroken, CheckpointSequence: res.Checkpoint, FirstBrokenChain: res.Chain}, nil
}
