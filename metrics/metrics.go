package metrics

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Transport label values of ObserveRequest.
const (
	TransportGRPC = "grpc"
	TransportHTTP = "http"
)

// Decision kinds of ObserveDecision.
const (
	KindValidate = "validate"
	KindAccess   = "access"
)

// latencyBuckets span the service's range: a validation answered from memory
// takes tens of microseconds, a write waits for an fsync of milliseconds, and
// anything past seconds is an incident.
var latencyBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
}

// Metrics holds the service's collectors. Create it with New; a nil
// *Metrics records nothing.
type Metrics struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	commits   prometheus.Histogram
	leaks     *prometheus.CounterVec
	store     *storeCollector
	health    *healthCollector
	// storeErrors counts store failures by operation.
	storeErrors *prometheus.CounterVec

	// observers caches the children of requests and durations by their
	// labels (requestKey -> *requestObservers): finding a child through
	// WithLabelValues hashes the labels and takes a lock on every call.
	// The label sets are bounded (methods, routes and codes), and children
	// are never deleted from the vectors, so the cache never goes stale.
	observers sync.Map
	// decided caches the children of decisions for the two kinds and
	// every reason the enum had when this was built, bound on first use
	// (binding up front would export series that never happened).
	decided [2][numReasons]atomic.Pointer[boundCounter]
}

type boundCounter struct{ prometheus.Counter }

// numReasons bounds the reasons whose counters are cached; a reason added
// later is counted through the vector.
const numReasons = 16

type requestKey struct{ transport, method, code string }

type requestObservers struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// New creates the collectors and registers them on reg (when reg is not
// nil). It panics if reg already holds collectors of the same names, as
// registering twice is a wiring mistake, not a runtime condition.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenauthority_requests_total",
			Help: "Requests answered, by transport, method (gRPC full method or HTTP route pattern) and code.",
		}, []string{"transport", "method", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokenauthority_request_duration_seconds",
			Help:    "Time to answer a request, by transport and method.",
			Buckets: latencyBuckets,
		}, []string{"transport", "method"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenauthority_decisions_total",
			Help: "Token validations and access checks, by kind and reason.",
		}, []string{"kind", "reason"}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tokenauthority_commit_batch_size",
			Help:    "Writes per store commit; larger batches share one fsync.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		}),
		leaks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenauthority_leak_reports_total",
			Help: "Leak reports processed after they were answered, by outcome: matched (revoked a token), unmatched (wrote nothing), failed (the store failed) or queue_full (refused with 429 before it was queued).",
		}, []string{"outcome"}),
		store:  newStoreCollector(),
		health: newHealthCollector(),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenauthority_store_errors_total",
			Help: "Failures of the store, by operation: request (a request the store could not serve: unavailable or closed), purge_seeds, sweep_tokens, verify_audit, finish_changes.",
		}, []string{"operation"}),
	}
	// Every operation is exported from the start, so that a rate over
	// the first error sees it.
	for _, op := range []string{StoreOpRequest, StoreOpPurgeSeeds, StoreOpSweepTokens, StoreOpVerifyAudit, StoreOpFinishChanges} {
		m.storeErrors.WithLabelValues(op)
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.durations, m.decisions, m.commits, m.leaks, m.store, m.health, m.storeErrors)
	}
	return m
}

// ObserveRequest records one answered request. For transport "grpc", method
// is the full method name and code the gRPC code name ("OK", "NotFound");
// for "http", method is the route pattern and code the HTTP status.
func (m *Metrics) ObserveRequest(transport, method, code string, d time.Duration) {
	if m == nil {
		return
	}
	key := requestKey{transport, method, code}
	o, ok := m.observers.Load(key)
	if !ok {
		o, _ = m.observers.LoadOrStore(key, &requestObservers{
			requests: m.requests.WithLabelValues(transport, method, code),
			duration: m.durations.WithLabelValues(transport, method),
		})
	}
	obs := o.(*requestObservers)
	obs.requests.Inc()
	obs.duration.Observe(d.Seconds())
}

// ObserveDecision records the outcome of a validation (kind "validate") or
// an access check (kind "access").
func (m *Metrics) ObserveDecision(kind string, reason pb.Reason) {
	if m == nil {
		return
	}
	k := -1
	switch kind {
	case KindValidate:
		k = 0
	case KindAccess:
		k = 1
	}
	if k < 0 || reason < 0 || reason >= numReasons {
		m.decisions.WithLabelValues(kind, reason.String()).Inc()
		return
	}
	slot := &m.decided[k][reason]
	c := slot.Load()
	if c == nil {
		c = &boundCounter{m.decisions.WithLabelValues(kind, reason.String())}
		slot.Store(c)
	}
	c.Inc()
}

// Outcomes of ObserveLeakReport.
const (
	LeakMatched   = "matched"
	LeakUnmatched = "unmatched"
	LeakFailed    = "failed"
	LeakQueueFull = "queue_full"
)

// ObserveLeakReport counts one leak report by its outcome (LeakMatched,
// ...).
func (m *Metrics) ObserveLeakReport(outcome string) {
	if m == nil {
		return
	}
	m.leaks.WithLabelValues(outcome).Inc()
}

// ObserveCommit records how many writes one store commit carried.
func (m *Metrics) ObserveCommit(writes int) {
	if m == nil {
		return
	}
	m.commits.Observe(float64(writes))
}
