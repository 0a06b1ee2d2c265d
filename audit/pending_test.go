package audit_test

import (
	"context"
	"testing"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestPendingWorkspaceID: the workspace a store reads the chain head of
// is the event's, as it stands when the write is queued.
func TestPendingWorkspaceID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pending func() *audit.Pending
		want    string
	}{
		{"no event", func() *audit.Pending { return audit.FromContext(context.Background()) }, ""},
		{"event's workspace", func() *audit.Pending {
			_, p := audit.NewContext(context.Background(), &pb.AuditEvent{WorkspaceId: "acme"})
			return p
		}, "acme"},
		{"set by the handler", func() *audit.Pending {
			_, p := audit.NewContext(context.Background(), &pb.AuditEvent{})
			p.SetTarget("beta", "tok")
			return p
		}, "beta"},
		{"outside any workspace", func() *audit.Pending {
			_, p := audit.NewContext(context.Background(), &pb.AuditEvent{Action: "store.backup"})
			return p
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pending().WorkspaceID(); got != tt.want {
				t.Errorf("WorkspaceID() = %q; want %q", got, tt.want)
			}
		})
	}
}
