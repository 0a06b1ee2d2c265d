package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// gate makes the sampling decision of a call before the instrumentation
// sees it, so that a call the sampler drops costs the instrumentation
// nothing: otelgrpc and otelhttp start a span, copy the gRPC metadata and
// build attributes for every call, sampled or not, which with otelgrpc
// registered as the stats handler cost a third of ValidateToken's server
// CPU with 1% sampled (bench/run.sh --rows tracing). The gate asks
// the provider's own sampler, about the trace id the span will get
// (idGenerator hands it to the SDK), so the SDK decides the same way when
// the instrumentation starts the span.
type gate struct {
	sampler sdktrace.Sampler
	prop    propagation.TextMapPropagator
}

// presetTraceID is the context key of the trace id the gate chose for a
// call without a parent.
type presetTraceID struct{}

// decide reports whether a call named name, with the traceparent and
// tracestate headers it carries ("" when none), is sampled, and returns
// the context the instrumentation must start its span in.
func (g *gate) decide(ctx context.Context, traceparent, tracestate, name string) (context.Context, bool) {
	params := sdktrace.SamplingParameters{ParentContext: ctx, Name: name, Kind: trace.SpanKindServer}
	if traceparent != "" {
		parent := trace.SpanContextFromContext(g.prop.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent, "tracestate": tracestate}))
		if parent.IsValid() {
			params.ParentContext = trace.ContextWithRemoteSpanContext(ctx, parent)
			params.TraceID = parent.TraceID()
		}
	}
	preset := !params.TraceID.IsValid()
	if preset {
		params.TraceID = newTraceID()
	}
	if g.sampler.ShouldSample(params).Decision == sdktrace.Drop {
		return ctx, false
	}
	if preset {
		ctx = context.WithValue(ctx, presetTraceID{}, params.TraceID)
	}
	return ctx, true
}

// newTraceID is a random trace id, as the SDK's own generator makes them.
func newTraceID() trace.TraceID {
	var id trace.TraceID
	for {
		binary.BigEndian.PutUint64(id[:8], rand.Uint64())
		binary.BigEndian.PutUint64(id[8:], rand.Uint64())
		if id.IsValid() {
			return id
		}
	}
}

// idGenerator is the SDK's random id generator, except that a root span
// started in a context the gate decided gets the trace id the gate chose.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	tid, ok := ctx.Value(presetTraceID{}).(trace.TraceID)
	if !ok {
		tid = newTraceID()
	}
	return tid, newSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var id trace.SpanID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}

// firstValue is the first value of an incoming metadata key, without the
// copy of the whole metadata that metadata.FromIncomingContext makes.
func firstValue(ctx context.Context, key string) string {
	if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// gatedHandler serves a request the gate lets through with traced, and
// any other with plain.
func (g *gate) handler(plain, traced http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			// Probes and scrapes would fill the traces.
			plain.ServeHTTP(w, r)
			return
		}
		ctx, ok := g.decide(r.Context(), r.Header.Get("Traceparent"), r.Header.Get("Tracestate"), r.Method)
		if !ok {
			plain.ServeHTTP(w, r)
			return
		}
		traced.ServeHTTP(w, r.WithContext(ctx))
	})
}
