package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) auditVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain (exit 10 naming the first broken event)",
		Long: `Checks that every event of the audit log is present, in order and unmodified.
Exit code 0 means the chain is intact; 10 means it is broken, and the first
event that is missing, out of place or modified is named.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := a.auditLog()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.VerifyAuditLog(ctx, &pb.VerifyAuditLogRequest{})
			if err != nil {
				return err
			}
			if err := a.show(view{msg: resp, table: func(t *table) {
				if resp.GetOk() {
					line := fmt.Sprintf("Audit log intact: %s checked", plural(int(resp.GetEventsChecked()), "event"))
					if cp := resp.GetCheckpointSequence(); cp > 0 {
						// Events up to it were removed by --audit-retention.
						line += fmt.Sprintf(" after the retention checkpoint at sequence %d", cp)
					}
					t.rows = append(t.rows, []string{line})
				}
			}}); err != nil {
				return err
			}
			if !resp.GetOk() {
				return &exitError{code: ExitAuditBroken, msg: fmt.Sprintf("audit log broken at sequence %d of the chain of %s (%s read): that event is missing, out of place or modified",
					resp.GetFirstBrokenSequence(), resp.GetFirstBrokenChain(), plural(int(resp.GetEventsChecked()), "event"))}
			}
			return nil
		},
	}
}
