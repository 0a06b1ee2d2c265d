package rest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"tokenauthority/metrics"
	"tokenauthority/server/rest"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{Ready: func(context.Context) error { return errors.New("store not open") }})
	resp := do(t, srv, http.MethodGet, "/healthz", "", nil)
	if resp.status != http.StatusOK {
		t.Errorf("status = %d, want 200 even when not ready", resp.status)
	}
	if diff := cmp.Diff(map[string]any{"status": "ok"}, resp.object(t)); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ready      func(context.Context) error
		wantStatus int
		want       map[string]any
	}{
		{
			name:       "no check configured",
			wantStatus: http.StatusOK,
			want:       map[string]any{"status": "ok"},
		},
		{
			name:       "ready",
			ready:      func(context.Context) error { return nil },
			wantStatus: http.StatusOK,
			want:       map[string]any{"status": "ok"},
		},
		{
			name:       "not ready",
			ready:      func(context.Context) error { return errors.New("store not open") },
			wantStatus: http.StatusServiceUnavailable,
			want: map[string]any{
				"code":    float64(14),
				"message": "not ready",
				"detail":  "The service is not ready: store not open",
				"details": []any{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, rest.Config{Ready: tt.ready})
			resp := do(t, srv, http.MethodGet, "/readyz", "", nil)
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.want, resp.object(t)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	srv := newServer(t, rest.Config{Metrics: metrics.New(reg), Gatherer: reg})

	do(t, srv, http.MethodGet, "/v1/workspaces/acme", "", nil)
	do(t, srv, http.MethodGet, "/v1/workspaces/not-found", "", nil)
	do(t, srv, http.MethodGet, "/api/v1/tokens/"+knownSecret+"/info", "", nil)
	do(t, srv, http.MethodGet, "/no/such/"+knownSecret, "", nil)
	do(t, srv, http.MethodGet, "/healthz", "", nil)

	resp := do(t, srv, http.MethodGet, "/metrics", "", nil)
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.status)
	}
	if got := resp.header.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", got)
	}
	body := string(resp.body)
	for _, want := range []string{
		`tokenauthority_requests_total{code="200",method="GET /v1/workspaces/{workspace_id}",transport="http"} 1`,
		`tokenauthority_requests_total{code="404",method="GET /v1/workspaces/{workspace_id}",transport="http"} 1`,
		`tokenauthority_requests_total{code="200",method="GET /api/v1/tokens/{token}/info",transport="http"} 1`,
		`tokenauthority_requests_total{code="404",method="unmatched",transport="http"} 1`,
		`tokenauthority_requests_total{code="200",method="GET /healthz",transport="http"} 1`,
		`tokenauthority_request_duration_seconds_count{method="GET /v1/workspaces/{workspace_id}",transport="http"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, knownSecret) {
		t.Error("/metrics contains a token secret from a request path")
	}
}

func TestMetricsEndpointNeedsGatherer(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	if resp := do(t, srv, http.MethodGet, "/metrics", "", nil); resp.status != http.StatusNotFound {
		t.Errorf("status = %d without a Gatherer, want 404", resp.status)
	}
}
