package server

import (
	"context"
	"log/slog"

	"tokenauthority/audit"
	"tokenauthority/metrics"
)

// VerifyAuditChain verifies the audit log's hash chain, as VerifyAuditLog
// does and the daemon does periodically: a broken chain is logged, and the
// outcome (or the store's failure) goes to the metrics that the alerts
// watch.
func (s *Server) VerifyAuditChain(ctx context.Context) (audit.Result, error) {
	res, err := s.store.VerifyAudit(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.metrics.ObserveStoreError(metrics.StoreOpVerifyAudit)
		}
		return audit.Result{}, err
	}
	s.metrics.ObserveAuditVerify(res.OK, res.Checked, s.now())
	if !res.OK {
		s.log.LogAttrs(ctx, slog.LevelWarn, "audit log chain is broken",
			slog.Uint64("first_broken_sequence", res.FirstBroken), slog.String("chain", res.Chain), slog.Uint64("events_checked", res.Checked))
	}
	return res, nil
}
