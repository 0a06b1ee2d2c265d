package audit

import (
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Filter selects events; its zero value selects every event. Non-empty
// fields must all match.
type Filter struct {
	WorkspaceID string
	Actor       string
	Action      string
	// Start, when not zero, keeps events at or after it.
	Start time.Time
	// End, when not zero, keeps events before it.
	End time.Time
}

// Match reports whether ev passes f.
func (f Filter) Match(ev *pb.AuditEvent) bool {
	if f.WorkspaceID != "" && ev.GetWorkspaceId() != f.WorkspaceID ||
		f.Actor != "" && ev.GetActor() != f.Actor ||
		f.Action != "" && ev.GetAction() != f.Action {
		return false
	}
	t := ev.GetTime().AsTime()
	if !f.Start.IsZero() && t.Before(f.Start) {
		return false
	}
	return f.End.IsZero() || t.Before(f.End)
}
