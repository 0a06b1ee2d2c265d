package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestGateAgreesWithSDK: the gate's decision is the SDK's. A call the gate
// lets through gets a recorded span in the trace the gate chose or the
// parent named, and about the configured ratio of root calls is let
// through.
func TestGateAgreesWithSDK(t *testing.T) {
	t.Parallel()
	const ratio, n = 0.25, 4000
	sampler := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	tr := newTracing(tp, sampler)
	sampled := 0
	for range n {
		ctx, ok := tr.gate.decide(context.Background(), "", "", "m")
		preset, hasPreset := ctx.Value(presetTraceID{}).(trace.TraceID)
		if !ok {
			if hasPreset {
				t.Fatal("a dropped call carries a preset trace id")
			}
			continue
		}
		sampled++
		_, span := tr.tracer.Start(ctx, "m")
		if !span.IsRecording() || !hasPreset || span.SpanContext().TraceID() != preset {
			t.Fatalf("gate sampled trace %v; SDK span recording %v in trace %v", preset, span.IsRecording(), span.SpanContext().TraceID())
		}
		span.End()
	}
	if lo, hi := int(n*ratio*0.8), int(n*ratio*1.2); sampled < lo || sampled > hi {
		t.Errorf("%d of %d root calls sampled at ratio %v, want %d to %d", sampled, n, ratio, lo, hi)
	}

	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, tc := range []struct {
		name, traceparent string
		want              bool
	}{
		{"sampled parent", "00-" + tid + "-" + sid + "-01", true},
		{"unsampled parent", "00-" + tid + "-" + sid + "-00", false},
	} {
		ctx, ok := tr.gate.decide(context.Background(), tc.traceparent, "", "m")
		if ok != tc.want {
			t.Errorf("%s: sampled %v, want %v", tc.name, ok, tc.want)
		}
		if !ok {
			continue
		}
		// The instrumentation extracts the parent itself.
		ctx = tr.prop.Extract(ctx, propagation.MapCarrier{"traceparent": tc.traceparent})
		_, span := tr.tracer.Start(ctx, "m")
		if !span.IsRecording() || span.SpanContext().TraceID().String() != tid {
			t.Errorf("%s: span recording %v in trace %v, want recording in %s", tc.name, span.IsRecording(), span.SpanContext().TraceID(), tid)
		}
		span.End()
	}
}

// TestHandlerGate: a request the sampler drops, and the probes, reach the
// plain handler; a sampled one reaches the traced one, in the caller's
// trace.
func TestHandlerGate(t *testing.T) {
	t.Parallel()
	sampler := sdktrace.ParentBased(sdktrace.NeverSample())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithIDGenerator(idGenerator{}))
	tr := newTracing(tp, sampler)
	var got string
	plain := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "plain" })
	h := tr.gate.handler(plain, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = "traced " + r.Header.Get("Traceparent")
	}))
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name, path, traceparent, want string
	}{
		{"root call, never sampled", "/v1/tokens:validate", "", "plain"},
		{"sampled parent", "/v1/tokens:validate", parent, "traced " + parent},
		{"probe with a sampled parent", "/readyz", parent, "plain"},
		{"scrape with a sampled parent", "/metrics", parent, "plain"},
	} {
		got = ""
		r := httptest.NewRequest(http.MethodPost, tc.path, nil)
		if tc.traceparent != "" {
			r.Header.Set("Traceparent", tc.traceparent)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("%s: served by %q, want %q", tc.name, got, tc.want)
		}
	}
}
