package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"tokenauthority/audit"
	"tokenauthority/metrics"
)

// sweepInterval is how often ended tokens and audit events past their
// retention are deleted (and once at start).
const sweepInterval = time.Hour

// startBackground starts the last-used writer and the retention sweeps of
// tokens and audit events; they stop when ctx ends, and Shutdown waits for
// them.
func (d *Daemon) startBackground(ctx context.Context) {
	d.wg.Add(3)
	go func() {
		defer d.wg.Done()
		d.usage.Run(ctx)
	}()
	go func() {
		defer d.wg.Done()
		d.sweepTokens(ctx)
	}()
	go func() {
		defer d.wg.Done()
		d.sweepAudit(ctx)
	}()
}

// sweepAudit removes audit events older than the audit retention, at start
// and then every sweepInterval, until ctx ends. A retention of 0 keeps
// every event.
func (d *Daemon) sweepAudit(ctx context.Context) {
	sweepEvery(ctx, d.cfg.AuditRetention, d.sweepAuditOnce)
}

func (d *Daemon) sweepAuditOnce(ctx context.Context) {
	cutoff := d.cfg.now()().Add(-d.cfg.AuditRetention)
	n, err := d.store.SweepAudit(ctx, cutoff, 0)
	if err != nil && ctx.Err() == nil {
		// A broken chain is left as found, for VerifyAuditLog to report.
		d.log.Error("remove audit events past the audit retention", slog.String("error", err.Error()), slog.Int("removed", n))
		return
	}
	if n > 0 {
		d.log.Info("removed audit events past the audit retention", slog.Int("count", n), slog.Time("older_than", cutoff))
	}
}

// sweepTokens deletes tokens revoked or expired longer than the retention
// ago, at start and then every sweepInterval, until ctx ends. A retention of
// 0 keeps every token.
func (d *Daemon) sweepTokens(ctx context.Context) { sweepEvery(ctx, d.cfg.Retention, d.sweepOnce) }

// sweepEvery runs sweep at start and then every sweepInterval until ctx
// ends, unless retention is 0 (keep everything).
func sweepEvery(ctx context.Context, retention time.Duration, sweep func(context.Context)) {
	if retention <= 0 {
		return
	}
	sweep(ctx)
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sweep(ctx)
		}
	}
}

func (d *Daemon) sweepOnce(ctx context.Context) {
	cutoff := d.cfg.now()().Add(-d.cfg.Retention)
	n, err := d.store.SweepTokens(ctx, cutoff, 0)
	if err != nil && ctx.Err() == nil {
		d.metrics.ObserveStoreError(metrics.StoreOpSweepTokens)
		d.log.Warn("delete tokens past the retention", slog.String("error", err.Error()), slog.Int("deleted", n))
		return
	}
	if n > 0 {
		d.log.Info("deleted tokens past the retention", slog.Int("count", n), slog.Time("ended_before", cutoff))
	}
}

// flushUsage writes the last-used times still in memory. It runs after the
// servers have stopped, so no use is recorded after it, and it is not cut
// short by a shutdown deadline that has passed: it is one commit.
func (d *Daemon) flushUsage(ctx context.Context) error {
	n, err := d.usage.FlushAll(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("write last-used times: %w", err)
	}
	if n > 0 {
		d.log.Info("wrote last-used times", slog.Int("tokens", n))
	}
	return nil
}

// traceFlushTimeout bounds the export of the spans still batched at
// shutdown, which may run after the shutdown deadline has passed.
const traceFlushTimeout = 5 * time.Second

// flushTraces sends the spans of the last requests and stops the exporter.
// A collector that cannot take them loses them: that is logged, and the
// shutdown is still clean.
func (d *Daemon) flushTraces(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), traceFlushTimeout)
	defer cancel()
	if err := d.tracing.Shutdown(ctx); err != nil {
		d.log.Warn("flush the last spans", slog.String("error", err.Error()))
	}
}

// startAuditVerify verifies the audit log's hash chain at start and then
// every --audit-verify-interval until ctx ends, so that the metrics (and
// the alert on them) learn of a broken chain without anyone calling
// VerifyAuditLog. An interval of 0 leaves it to VerifyAuditLog. verify
// logs a broken chain and records every outcome in the metrics.
func (d *Daemon) startAuditVerify(ctx context.Context, verify func(ctx context.Context) (audit.Result, error)) {
	if d.cfg.AuditVerifyInterval <= 0 {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(d.cfg.AuditVerifyInterval)
		defer t.Stop()
		for {
			if _, err := verify(ctx); err != nil && ctx.Err() == nil {
				d.log.Warn("verify the audit log", slog.String("error", err.Error()))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}
