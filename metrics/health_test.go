package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"tokenauthority/metrics"
)

var healthNames = []string{
	"tokenauthority_ready",
	"tokenauthority_index_staleness_seconds", "tokenauthority_index_max_staleness_seconds",
	"tokenauthority_tls_certificate_expiry_timestamp_seconds",
	"tokenauthority_audit_chain_ok", "tokenauthority_audit_verified_timestamp_seconds", "tokenauthority_audit_events_verified",
}

// TestHealthMetrics: each health metric is silent until its source is
// given, then read at scrape time.
func TestHealthMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	if got := testutil.CollectAndCount(reg, healthNames...); got != 0 {
		t.Errorf("before any source: %d health metrics, want 0", got)
	}

	var notReady error
	m.WatchReady(func(context.Context) error { return notReady })
	lag := 500 * time.Millisecond
	m.WatchStaleness(func() (time.Duration, time.Duration) { return lag, 2 * time.Second })
	m.WatchCertificate(func() (time.Time, error) { return time.Unix(1900000000, 0), nil })
	m.ObserveAuditVerify(true, 42, time.Unix(1800000000, 500_000_000))

	want := `
# HELP tokenauthority_audit_chain_ok 1 when the last verification of the audit log's hash chain found it intact, 0 when it found it broken.
# TYPE tokenauthority_audit_chain_ok gauge
tokenauthority_audit_chain_ok 1
# HELP tokenauthority_audit_events_verified Events the last verification of the audit log checked.
# TYPE tokenauthority_audit_events_verified gauge
tokenauthority_audit_events_verified 42
# HELP tokenauthority_audit_verified_timestamp_seconds When the audit log's hash chain was last verified (periodically or by VerifyAuditLog), in Unix seconds.
# TYPE tokenauthority_audit_verified_timestamp_seconds gauge
tokenauthority_audit_verified_timestamp_seconds 1.8000000005e+09
# HELP tokenauthority_index_max_staleness_seconds With the etcd store: the bound (--max-staleness) past which validation reads through to etcd and the replica reports not ready.
# TYPE tokenauthority_index_max_staleness_seconds gauge
tokenauthority_index_max_staleness_seconds 2
# HELP tokenauthority_index_staleness_seconds With the etcd store: how long ago etcd last confirmed this replica's validation index current.
# TYPE tokenauthority_index_staleness_seconds gauge
tokenauthority_index_staleness_seconds 0.5
# HELP tokenauthority_ready 1 when the server can serve (what /readyz answers 200 for), 0 when not; checked at scrape time.
# TYPE tokenauthority_ready gauge
tokenauthority_ready 1
# HELP tokenauthority_tls_certificate_expiry_timestamp_seconds When the serving certificate (--tls-cert, as currently loaded) expires, in Unix seconds.
# TYPE tokenauthority_tls_certificate_expiry_timestamp_seconds gauge
tokenauthority_tls_certificate_expiry_timestamp_seconds 1.9e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), healthNames...); err != nil {
		t.Error(err)
	}

	// Read at scrape time: a store that fails, an index that lags, a
	// broken chain.
	notReady = errors.New("etcd unavailable")
	lag = 3 * time.Second
	m.ObserveAuditVerify(false, 7, time.Unix(1800000000, 500_000_000))
	want = strings.NewReplacer(
		"\ntokenauthority_ready 1\n", "\ntokenauthority_ready 0\n",
		"\ntokenauthority_index_staleness_seconds 0.5\n", "\ntokenauthority_index_staleness_seconds 3\n",
		"\ntokenauthority_audit_chain_ok 1\n", "\ntokenauthority_audit_chain_ok 0\n",
		"\ntokenauthority_audit_events_verified 42\n", "\ntokenauthority_audit_events_verified 7\n",
	).Replace(want)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), healthNames...); err != nil {
		t.Error(err)
	}
}

func TestWatchCertificateError(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.WatchCertificate(func() (time.Time, error) { return time.Time{}, errors.New("no serving certificate") })
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "no serving certificate") {
		t.Errorf("Gather() error = %v, want one mentioning the certificate", err)
	}
}

// TestStoreErrors: every operation's counter is there from the start, at 0.
func TestStoreErrors(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.ObserveStoreError(metrics.StoreOpSweepTokens)
	m.ObserveStoreError(metrics.StoreOpSweepTokens)
	want := `
# HELP tokenauthority_store_errors_total Failures of the store, by operation: request (a request the store could not serve: unavailable or closed), purge_seeds, sweep_tokens, verify_audit, finish_changes.
# TYPE tokenauthority_store_errors_total counter
tokenauthority_store_errors_total{operation="finish_changes"} 0
tokenauthority_store_errors_total{operation="purge_seeds"} 0
tokenauthority_store_errors_total{operation="request"} 0
tokenauthority_store_errors_total{operation="sweep_tokens"} 2
tokenauthority_store_errors_total{operation="verify_audit"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tokenauthority_store_errors_total"); err != nil {
		t.Error(err)
	}
}
