package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
)

// family returns the gathered metric family called name, or fails the test.
func family(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("metric family %q not gathered", name)
	return nil
}

// labels flattens a metric's label pairs into a map.
func labels(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

func TestObserveRequest(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.ObserveRequest("grpc", "/tokenauthority.v1.TokenService/ValidateToken", "OK", 2*time.Millisecond)
	m.ObserveRequest("grpc", "/tokenauthority.v1.TokenService/ValidateToken", "OK", 4*time.Millisecond)
	m.ObserveRequest("grpc", "/tokenauthority.v1.TokenService/ValidateToken", "NotFound", time.Millisecond)
	m.ObserveRequest("http", "GET /api/v1/tokens/{token}/info", "401", time.Millisecond)

	want := `
# HELP tokenauthority_requests_total Requests answered, by transport, method (gRPC full method or HTTP route pattern) and code.
# TYPE tokenauthority_requests_total counter
tokenauthority_requests_total{code="401",method="GET /api/v1/tokens/{token}/info",transport="http"} 1
tokenauthority_requests_total{code="NotFound",method="/tokenauthority.v1.TokenService/ValidateToken",transport="grpc"} 1
tokenauthority_requests_total{code="OK",method="/tokenauthority.v1.TokenService/ValidateToken",transport="grpc"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tokenauthority_requests_total"); err != nil {
		t.Error(err)
	}

	type hist struct {
		Count uint64
		Sum   float64
	}
	got := map[string]hist{}
	for _, mt := range family(t, reg, "tokenauthority_request_duration_seconds").GetMetric() {
		l := labels(mt)
		got[l["transport"]+" "+l["method"]] = hist{mt.GetHistogram().GetSampleCount(), mt.GetHistogram().GetSampleSum()}
	}
	wantHist := map[string]hist{
		"grpc /tokenauthority.v1.TokenService/ValidateToken": {3, 0.007},
		"http GET /api/v1/tokens/{token}/info":               {1, 0.001},
	}
	approx := cmp.Comparer(func(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 })
	if diff := cmp.Diff(wantHist, got, approx); diff != "" {
		t.Errorf("request_duration_seconds mismatch (-want +got):\n%s", diff)
	}
}

func TestObserveDecision(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.ObserveDecision("validate", pb.Reason_REASON_VALID)
	m.ObserveDecision("validate", pb.Reason_REASON_VALID)
	m.ObserveDecision("validate", pb.Reason_REASON_EXPIRED)
	m.ObserveDecision("access", pb.Reason_REASON_ZOO_NOT_FOUND)

	want := `
# HELP tokenauthority_decisions_total Token validations and access checks, by kind and reason.
# TYPE tokenauthority_decisions_total counter
tokenauthority_decisions_total{kind="access",reason="REASON_ZOO_NOT_FOUND"} 1
tokenauthority_decisions_total{kind="validate",reason="REASON_EXPIRED"} 1
tokenauthority_decisions_total{kind="validate",reason="REASON_VALID"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tokenauthority_decisions_total"); err != nil {
		t.Error(err)
	}
}

func TestObserveCommit(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	for _, n := range []int{1, 3, 64, 300} {
		m.ObserveCommit(n)
	}

	h := family(t, reg, "tokenauthority_commit_batch_size").GetMetric()[0].GetHistogram()
	got := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		got[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	want := map[float64]uint64{1: 1, 2: 1, 4: 2, 8: 2, 16: 2, 32: 2, 64: 3, 128: 3, 256: 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commit_batch_size buckets mismatch (-want +got):\n%s", diff)
	}
	if got, want := h.GetSampleCount(), uint64(4); got != want {
		t.Errorf("sample count = %d, want %d", got, want)
	}
	if got, want := h.GetSampleSum(), 368.0; got != want {
		t.Errorf("sample sum = %v, want %v", got, want)
	}
}

func TestNilMetricsIsSafe(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.ObserveRequest("http", "GET /healthz", "200", time.Millisecond)
	m.ObserveDecision("access", pb.Reason_REASON_PUBLIC)
	m.ObserveCommit(3)
	m.WatchStore(nil)
	if m.UnaryServerInterceptor() == nil {
		t.Error("UnaryServerInterceptor() on nil *Metrics = nil, want a pass-through interceptor")
	}
}

func TestNewRegistersOnce(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics.New(reg)
	defer func() {
		if recover() == nil {
			t.Error("second New on the same registry did not panic")
		}
	}()
	metrics.New(reg)
}
