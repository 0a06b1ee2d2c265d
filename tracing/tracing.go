package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
)

// ScopeName is the instrumentation scope of the service's own spans.
const ScopeName = "tokenauthority"

// Tracing is the running tracer provider of a daemon. A nil *Tracing is
// tracing turned off: every method is then a no-op that adds nothing to
// the request path.
type Tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	gate     *gate
	// grpcStats is otelgrpc's server handler, driven by StartCall.
	grpcStats stats.Handler
}

// Start builds the tracer provider cfg asks for, with the exporter,
// sampler and resource of the OTEL_* environment; version is the
// service.version of the resource. It returns nil when cfg is off. The
// exporter connects lazily: Start does not fail when the collector is
// down, the batch processor drops what it cannot send.
func Start(ctx context.Context, cfg Config, version string) (*Tracing, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: span exporter from OTEL_* environment: %w", err)
	}
	// The environment (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) comes
	// last so that it wins. No process detector: the command line can
	// hold --master-key.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName("tokenauthority"), semconv.ServiceVersion(version)),
		resource.WithFromEnv(),
	)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource from OTEL_* environment: %w", err)
	}
	sampler, err := cfg.sampler()
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, err
	}
	// The batching comes from OTEL_BSP_*.
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSpanProcessor(redactor{sdktrace.NewBatchSpanProcessor(exp)}),
	)
	return newTracing(tp, sampler), nil
}

// newTracing is the Tracing of a provider whose sampler is sampler and
// whose ids come from idGenerator.
func newTracing(tp *sdktrace.TracerProvider, sampler sdktrace.Sampler) *Tracing {
	prop := propagation.TraceContext{}
	return &Tracing{
		provider: tp,
		tracer:   tp.Tracer(ScopeName),
		prop:     prop,
		gate:     &gate{sampler: sampler, prop: prop},
		grpcStats: otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(tp),
			otelgrpc.WithPropagators(prop),
			// The service's metrics are Prometheus's (package metrics).
			otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		),
	}
}

// Tracer is the tracer of the service's own spans; nil when off.
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tracer
}

// StartCall starts the span of a unary gRPC call to method when the call
// is sampled (see gate), through otelgrpc's server stats handler, the
// parent taken from the call's traceparent metadata; end, when not nil,
// must be called with the call's error once it is answered. Health checks
// are left out: probes would fill the traces. ctx and a nil end when off
// or not sampled.
//
// The server's interceptor calls it rather than the handler being
// registered with grpc.StatsHandler: with any stats handler registered,
// grpc-go copies the metadata and allocates an event for every step of
// every call, sampled or not, which cost a fifth of ValidateToken's
// server CPU with 1% of calls sampled (bench/run.sh --rows tracing).
func (t *Tracing) StartCall(ctx context.Context, method string) (_ context.Context, end func(error)) {
	if t == nil || strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return ctx, nil
	}
	var tracestate string
	traceparent := firstValue(ctx, "traceparent")
	if traceparent != "" {
		tracestate = firstValue(ctx, "tracestate")
	}
	ctx, ok := t.gate.decide(ctx, traceparent, tracestate, method)
	if !ok {
		return ctx, nil
	}
	begin := time.Now()
	ctx = t.grpcStats.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
	t.grpcStats.HandleRPC(ctx, &stats.Begin{BeginTime: begin})
	if p, ok := peer.FromContext(ctx); ok && p.LocalAddr != nil {
		t.grpcStats.HandleRPC(ctx, &stats.InHeader{FullMethod: method, LocalAddr: p.LocalAddr, RemoteAddr: p.Addr})
	}
	return ctx, func(err error) {
		t.grpcStats.HandleRPC(ctx, &stats.End{BeginTime: begin, EndTime: time.Now(), Error: err})
	}
}

// Handler instruments the HTTP listener: a span per sampled request, the
// parent taken from its traceparent header (see gate), named by its method
// until the REST facade names it by its route (the raw path can hold a
// secret). Probes and scrapes are left out. h itself when off.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	return t.gate.handler(h, otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	))
}

// StartFromHeaders continues, in a span of its own, the trace that the
// traceparent header of a proxied HTTP request names (header returns a
// header of that request by its lower-case name, such as the headers
// Envoy puts in a CheckRequest), when it names another trace than ctx's: a
// gateway that does not trace itself still passes its client's traceparent
// on, and the decision then shows in the client's trace. The span links to
// ctx's span. ctx and a nil span are returned when off, or when there is
// no such traceparent. The caller ends a span it got.
func (t *Tracing) StartFromHeaders(ctx context.Context, name string, header func(name string) string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, nil
	}
	remote := trace.SpanContextFromContext(t.prop.Extract(context.Background(), headerCarrier(header)))
	cur := trace.SpanContextFromContext(ctx)
	if !remote.IsValid() || remote.TraceID() == cur.TraceID() {
		return ctx, nil
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	if cur.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: cur}))
	}
	return t.tracer.Start(trace.ContextWithRemoteSpanContext(ctx, remote), name, opts...)
}

// headerCarrier reads the trace context from a header getter; the
// propagator only reads.
type headerCarrier func(name string) string

func (h headerCarrier) Get(key string) string { return h(key) }
func (headerCarrier) Set(string, string)      {}
func (headerCarrier) Keys() []string          { return nil }

// Shutdown flushes the spans still batched to the exporter and stops it,
// waiting until ctx ends at most.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}
