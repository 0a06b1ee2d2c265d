package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readyTimeout bounds the readiness check a scrape runs.
const readyTimeout = 5 * time.Second

// Store operations of ObserveStoreError.
const (
	StoreOpRequest     = "request"      // a request the store could not serve (unavailable or closed)
	StoreOpPurgeSeeds  = "purge_seeds"  // the purge of expired seeds
	StoreOpSweepTokens = "sweep_tokens" // the retention sweep
	StoreOpVerifyAudit = "verify_audit" // a verification of the audit chain
	// StoreOpFinishChanges is the finishing of split changes a process
	// stopped in the middle of.
	StoreOpFinishChanges = "finish_changes"
)

// healthCollector reports, at scrape time, what an operator alerts on:
// readiness, the validation index's staleness, the serving certificate's
// expiry and the last audit verification. Each part is silent until its
// source is given, so a bbolt server exports no staleness and a plaintext
// one no certificate.
type healthCollector struct {
	ready, staleness, maxStaleness, certExpiry *prometheus.Desc
	auditOK, auditTime, auditEvents            *prometheus.Desc

	readyFn     atomic.Pointer[func(ctx context.Context) error]
	stalenessFn atomic.Pointer[func() (lag, bound time.Duration)]
	certFn      atomic.Pointer[func() (time.Time, error)]
	audit       atomic.Pointer[auditResult]
}

type auditResult struct {
	ok      bool
	checked uint64
	at      time.Time
}

func newHealthCollector() *healthCollector {
	return &healthCollector{
		ready: prometheus.NewDesc("tokenauthority_ready",
			"1 when the server can serve (what /readyz answers 200 for), 0 when not; checked at scrape time.", nil, nil),
		staleness: prometheus.NewDesc("tokenauthority_index_staleness_seconds",
			"With the etcd store: how long ago etcd last confirmed this replica's validation index current.", nil, nil),
		maxStaleness: prometheus.NewDesc("tokenauthority_index_max_staleness_seconds",
			"With the etcd store: the bound (--max-staleness) past which validation reads through to etcd and the replica reports not ready.", nil, nil),
		certExpiry: prometheus.NewDesc("tokenauthority_tls_certificate_expiry_timestamp_seconds",
			"When the serving certificate (--tls-cert, as currently loaded) expires, in Unix seconds.", nil, nil),
		auditOK: prometheus.NewDesc("tokenauthority_audit_chain_ok",
			"1 when the last verification of the audit log's hash chain found it intact, 0 when it found it broken.", nil, nil),
		auditTime: prometheus.NewDesc("tokenauthority_audit_verified_timestamp_seconds",
			"When the audit log's hash chain was last verified (periodically or by VerifyAuditLog), in Unix seconds.", nil, nil),
		auditEvents: prometheus.NewDesc("tokenauthority_audit_events_verified",
			"Events the last verification of the audit log checked.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ready, c.staleness, c.maxStaleness, c.certExpiry, c.auditOK, c.auditTime, c.auditEvents} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	if f := c.readyFn.Load(); f != nil {
		// The Collector interface carries no context.
		ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
		v := 1.0
		if (*f)(ctx) != nil {
			v = 0
		}
		cancel()
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, v)
	}
	if f := c.stalenessFn.Load(); f != nil {
		lag, bound := (*f)()
		ch <- prometheus.MustNewConstMetric(c.staleness, prometheus.GaugeValue, lag.Seconds())
		ch <- prometheus.MustNewConstMetric(c.maxStaleness, prometheus.GaugeValue, bound.Seconds())
	}
	if f := c.certFn.Load(); f != nil {
		if at, err := (*f)(); err != nil {
			ch <- prometheus.NewInvalidMetric(c.certExpiry, err)
		} else {
			ch <- prometheus.MustNewConstMetric(c.certExpiry, prometheus.GaugeValue, float64(at.Unix()))
		}
	}
	if r := c.audit.Load(); r != nil {
		ok := 0.0
		if r.ok {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(c.auditOK, prometheus.GaugeValue, ok)
		ch <- prometheus.MustNewConstMetric(c.auditTime, prometheus.GaugeValue, float64(r.at.UnixNano())/1e9)
		ch <- prometheus.MustNewConstMetric(c.auditEvents, prometheus.GaugeValue, float64(r.checked))
	}
}

// WatchReady makes every scrape report tokenauthority_ready from ready
// (nil error: ready), run with a timeout of its own.
func (m *Metrics) WatchReady(ready func(ctx context.Context) error) {
	if m != nil && ready != nil {
		m.health.readyFn.Store(&ready)
	}
}

// WatchStaleness makes every scrape report the validation index's
// staleness and its bound (the etcd store's Staleness).
func (m *Metrics) WatchStaleness(staleness func() (lag, bound time.Duration)) {
	if m != nil && staleness != nil {
		m.health.stalenessFn.Store(&staleness)
	}
}

// WatchCertificate makes every scrape report when the serving certificate
// that expiry returns expires; an error is reported as a failed metric.
func (m *Metrics) WatchCertificate(expiry func() (time.Time, error)) {
	if m != nil && expiry != nil {
		m.health.certFn.Store(&expiry)
	}
}

// ObserveAuditVerify records the outcome of a verification of the audit
// log's hash chain at at: intact or not, over checked events.
func (m *Metrics) ObserveAuditVerify(ok bool, checked uint64, at time.Time) {
	if m == nil {
		return
	}
	m.health.audit.Store(&auditResult{ok: ok, checked: checked, at: at})
}

// ObserveStoreError counts a failure of the store in operation (one of the
// StoreOp constants).
func (m *Metrics) ObserveStoreError(operation string) {
	if m == nil {
		return
	}
	m.storeErrors.WithLabelValues(operation).Inc()
}
