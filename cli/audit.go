package cli

import (
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func (a *app) auditCmd() *cobra.Command {
	return group("audit", "Read and verify the audit log (admin credential)",
		a.auditListCmd(),
		a.auditVerifyCmd(),
	)
}

// auditTime shows an event's time to the second in UTC, without the
// relative time, so that a long list stays aligned.
func auditTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
