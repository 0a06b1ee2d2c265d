package server

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/principal"
)

// selfServiceActor is the actor of a call that no service credential
// authorized and that names no token of its own.
const selfServiceActor = "self-service"

// newEvent drafts the audit event of a request: who, what, from where and,
// as far as the request names them, the workspace and target. Handlers fill
// in what only they learn (a new token's id) through setAuditTarget. It
// reads only id fields of the request, never a secret.
func (s *Server) newEvent(ctx context.Context, action string, p principal.Principal, req any) *pb.AuditEvent {
	ev := &pb.AuditEvent{
		Time:          timestamppb.New(s.now()),
		Actor:         p.Name,
		Action:        action,
		ClientAddress: clientAddress(ctx),
	}
	if ev.Actor == "" {
		ev.Actor = selfServiceActor
	}
	switch r := req.(type) {
	case interface{ GetToken() *pb.Token }: // UpdateToken
		ev.WorkspaceId, ev.Target = r.GetToken().GetWorkspaceId(), r.GetToken().GetTokenId()
	case interface{ GetWorkspace() *pb.Workspace }: // UpdateWorkspace
		ev.WorkspaceId, ev.Target = r.GetWorkspace().GetWorkspaceId(), r.GetWorkspace().GetWorkspaceId()
	case interface{ GetWorkspaceId() string }:
		ev.WorkspaceId = r.GetWorkspaceId()
	}
	if ev.Target == "" {
		ev.Target = defaultTarget(req)
	}
	if ev.Target == "" {
		ev.Target = ev.WorkspaceId
	}
	return ev
}

// defaultTarget is the most specific id a request names: a token, a zoo, or
// a user.
func defaultTarget(req any) string {
	if r, ok := req.(interface{ GetTokenId() string }); ok && r.GetTokenId() != "" {
		return r.GetTokenId()
	}
	if r, ok := req.(interface{ GetZooId() string }); ok && r.GetZooId() != "" {
		return r.GetZooId()
	}
	if r, ok := req.(interface{ GetUserId() string }); ok {
		return r.GetUserId()
	}
	return ""
}

// setAuditTarget names the workspace and object of the request's audit
// event where the request does not (empty arguments change nothing). Call it
// before the store write that records the event.
func setAuditTarget(ctx context.Context, workspaceID, target string) {
	audit.FromContext(ctx).SetTarget(workspaceID, target)
}

// markAuditCreatedForSeed notes on the request's audit event that it
// created a token for an SDK seed.
func markAuditCreatedForSeed(ctx context.Context) {
	audit.FromContext(ctx).MarkCreatedForSeed()
}

// setAuditTargetIfUnset names the workspace and object of the request's
// audit event where the request named none.
func setAuditTargetIfUnset(ctx context.Context, workspaceID, target string) {
	audit.FromContext(ctx).SetTargetIfUnset(workspaceID, target)
}

// setAuditActor replaces the actor of the request's audit event.
func setAuditActor(ctx context.Context, actor string) {
	audit.FromContext(ctx).SetActor(actor)
}

// clientAddress is where the request of ctx came from: its gRPC peer, which
// the REST facade sets from the HTTP connection as well.
func clientAddress(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// auditLog copies every recorded event, once it is committed, to the log
// (Info) and, when configured, as a JSON line to a writer for a log
// pipeline. The store stays the record: a copy lost in a crash between
// commit and write is still in the store.
type auditLog struct {
	log *slog.Logger
	mu  sync.Mutex
	w   io.Writer
}

func (a *auditLog) write(ctx context.Context, ev *pb.AuditEvent) {
	a.log.LogAttrs(ctx, slog.LevelInfo, "audit",
		slog.Uint64("sequence", ev.GetSequence()),
		slog.String("action", ev.GetAction()),
		slog.String("actor", ev.GetActor()),
		slog.String("workspace_id", ev.GetWorkspaceId()),
		slog.String("target", ev.GetTarget()),
		slog.String("client_address", ev.GetClientAddress()))
	if a.w == nil {
		return
	}
	line, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "encode audit event", slog.String("error", err.Error()))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.w.Write(append(line, '\n')); err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "write audit log", slog.Uint64("sequence", ev.GetSequence()), slog.String("error", err.Error()))
	}
}
