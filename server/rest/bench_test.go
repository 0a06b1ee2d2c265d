package rest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"tokenauthority/metrics"
	"tokenauthority/server/rest"
)

// BenchmarkFacade measures the cost of the REST layer per request, called
// in-process, beside a bare net/http JSON handler as the baseline.
func BenchmarkFacade(b *testing.B) {
	reg := prometheus.NewRegistry()
	facade, err := rest.New(context.Background(), rest.Config{Metrics: metrics.New(reg), Gatherer: reg}, tokens{}, workspaces{}, self{})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"workspace_id":"acme","display_name":"","create_time":"2026-01-02T03:04:05Z"}`))
	})
	cases := []struct {
		name    string
		handler http.Handler
		method  string
		path    string
		body    string
	}{
		{"baseline=bare", bare, http.MethodGet, "/v1/workspaces/acme", ""},
		{"get=workspace", facade, http.MethodGet, "/v1/workspaces/acme", ""},
		{"post=check", facade, http.MethodPost, "/v1/access:check", `{"secret":"","zoo":"acme/detectors","operation":"OPERATION_DOWNLOAD"}`},
		{"error=notfound", facade, http.MethodGet, "/v1/workspaces/not-found", ""},
		{"probe=healthz", facade, http.MethodGet, "/healthz", ""},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
				rec := httptest.NewRecorder()
				c.handler.ServeHTTP(rec, req)
				if rec.Code >= 500 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
