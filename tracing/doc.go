// Package tracing sets up OpenTelemetry tracing for the daemon from the
// standard OTEL_* environment variables: the span exporter (OTLP over gRPC
// or HTTP, or the console) through the contrib autoexport package, the
// sampler (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG) and the batch
// processor (OTEL_BSP_*) through the SDK, and the resource
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES). It hands the transports
// their instrumentation: otelgrpc's server stats handler, which the
// server's interceptor drives (StartCall), and an otelhttp handler for the
// HTTP listener, both with the W3C trace context propagator only. Each
// call's sampling is decided first (gate.go), so that a call the sampler
// drops never reaches the instrumentation.
//
// Tracing is off unless the environment names a destination (see
// FromEnv): then Start returns a nil *Tracing, whose methods add nothing,
// so that no tracer, span or propagator runs on the request path.
//
// How it can hurt you: spans leave the process, so nothing secret may be
// put on one. The instrumentation records no request headers or gRPC
// metadata; otelhttp does record the raw URL path, which the SDK's
// self-service paths can hold a token secret in, so every span passes
// through a processor that drops url.path, url.query, url.full and any
// header or metadata attribute before export (redact.go). A caller that
// adds a span attribute holding a secret under another key exports it.
// Incoming traceparent headers are trusted: with the parentbased samplers
// a client that marks its trace sampled is traced whatever the ratio, so
// a client can raise the tracing load up to the rate of its own requests.
// Only unary gRPC calls are traced (the server has no stream interceptor),
// so the Backup stream has no span.
package tracing
