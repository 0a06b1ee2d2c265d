package cli

import (
	"strings"
	"testing"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestAuditListTableTargets: the table names what a revocation revoked and
// marks a token created for an SDK seed.
func TestAuditListTableTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   *pb.AuditEvent
		want string
	}{
		{"plain", &pb.AuditEvent{Action: "token.create", Target: "tok1"}, " tok1 "},
		{"created for a seed", &pb.AuditEvent{Action: "token.create", Target: "tok1", CreatedForSeed: true}, " tok1 [seed] "},
		{"revocation", &pb.AuditEvent{Action: "token.batch_revoke", Target: "acme", RevokedTokenIds: []string{"a", "b"}}, " acme (2 tokens revoked) "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab := newTable(time.Now())
			auditListTable([]*pb.AuditEvent{tt.ev})(tab)
			var out strings.Builder
			if err := tab.write(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("table =\n%s\nwant a row containing %q", out.String(), tt.want)
			}
		})
	}
}
