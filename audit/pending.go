package audit

import (
	"context"
	"slices"

	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Pending is the event of one request, carried in its context from where
// the request is authorized to the store write that records it. Its methods
// accept a nil receiver (a request without an event) and do nothing then.
// It is used by one request at a time, not concurrently.
type Pending struct {
	draft    *pb.AuditEvent
	recorded *pb.AuditEvent
	// onlyIfRevoked records the event only when the write revoked a token
	// (SetRevoked with ids): a leak report that matched nothing leaves no
	// trace in the store.
	onlyIfRevoked bool
}

type pendingKey struct{}

// NewContext returns ctx carrying ev as the event to record with the
// request's change, and the Pending that tracks it.
func NewContext(ctx context.Context, ev *pb.AuditEvent) (context.Context, *Pending) {
	p := &Pending{draft: ev}
	return context.WithValue(ctx, pendingKey{}, p), p
}

// FromContext returns the Pending of ctx, or nil.
func FromContext(ctx context.Context) *Pending {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	return p
}

// SetTarget names the workspace and object the change is about, where the
// request itself does not (a new token's id, say). Empty arguments leave the
// field as it is. Call it before the store write.
func (p *Pending) SetTarget(workspaceID, target string) {
	if p == nil {
		return
	}
	if workspaceID != "" {
		p.draft.WorkspaceId = workspaceID
	}
	if target != "" {
		p.draft.Target = target
	}
}

// SetTargetIfUnset is SetTarget for the fields that are still empty.
func (p *Pending) SetTargetIfUnset(workspaceID, target string) {
	if p == nil {
		return
	}
	if p.draft.WorkspaceId == "" {
		p.draft.WorkspaceId = workspaceID
	}
	if p.draft.Target == "" {
		p.draft.Target = target
	}
}

// MarkCreatedForSeed notes that the change created a token for an SDK seed.
func (p *Pending) MarkCreatedForSeed() {
	if p != nil {
		p.draft.CreatedForSeed = true
	}
}

// SetActor replaces the actor, for requests that authenticate by something
// other than a service credential (a token acting on itself).
func (p *Pending) SetActor(actor string) {
	if p != nil {
		p.draft.Actor = actor
	}
}

// SetRevoked names the tokens a revocation of several tokens revoked. The
// store calls it inside the write's transaction, which may run more than
// once, so it replaces rather than adds to the list.
func (p *Pending) SetRevoked(tokenIDs []string) {
	if p != nil {
		p.draft.RevokedTokenIds = slices.Clone(tokenIDs)
	}
}

// OnlyIfRevoked makes the event one to record only by a write that
// revoked at least one token (see SetRevoked); a write that revoked
// nothing then records nothing.
func (p *Pending) OnlyIfRevoked() {
	if p != nil {
		p.onlyIfRevoked = true
	}
}

// Unrecorded reports whether the request has an event that no write has
// recorded yet; a store wraps a write in the event's recording then, and
// asks Draft inside the transaction.
func (p *Pending) Unrecorded() bool { return p != nil && p.recorded == nil }

// Draft returns a copy of the event to record, or nil when there is none,
// it was already recorded (a request records at most one event however
// many writes it makes), or it is OnlyIfRevoked and names no revoked
// token.
func (p *Pending) Draft() *pb.AuditEvent {
	if !p.Unrecorded() || p.onlyIfRevoked && len(p.draft.GetRevokedTokenIds()) == 0 {
		return nil
	}
	return proto.CloneOf(p.draft)
}

// WorkspaceID is the workspace of the event to record ("" when there is
// none, or no event), read without copying the event.
func (p *Pending) WorkspaceID() string {
	if p == nil {
		return ""
	}
	return p.draft.GetWorkspaceId()
}

// Done notes ev, a sealed Draft, as recorded by a committed write.
func (p *Pending) Done(ev *pb.AuditEvent) {
	if p != nil {
		p.recorded = ev
	}
}

// Recorded returns the event as stored, or nil when no write recorded it.
func (p *Pending) Recorded() *pb.AuditEvent {
	if p == nil {
		return nil
	}
	return p.recorded
}

// Without returns ctx carrying no event, for housekeeping writes a request
// makes that are not the change it reports (deleting an expired record it
// then answers NotFound for, say).
func Without(ctx context.Context) context.Context {
	return context.WithValue(ctx, pendingKey{}, (*Pending)(nil))
}
