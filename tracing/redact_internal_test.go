package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestRedactor: the attributes that can carry a secret never reach the
// exporter; the others do.
func TestRedactor(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(redactor{sdktrace.NewSimpleSpanProcessor(exp)}))
	_, span := tp.Tracer("test").Start(context.Background(), "GET")
	span.SetAttributes(
		attribute.String("url.path", "/api/v1/tokens/SECRET/info"),
		attribute.String("url.query", "token=SECRET"),
		attribute.String("url.full", "http://h/api/v1/tokens/SECRET/info"),
		attribute.String("http.target", "/api/v1/tokens/SECRET/info"),
		attribute.String("http.url", "http://h/SECRET"),
		attribute.StringSlice("http.request.header.authorization", []string{"Bearer SECRET"}),
		attribute.StringSlice("http.response.header.set-cookie", []string{"SECRET"}),
		attribute.StringSlice("rpc.grpc.request.metadata.authorization", []string{"Bearer SECRET"}),
		attribute.StringSlice("rpc.grpc.response.metadata.x", []string{"SECRET"}),
		attribute.String("http.route", "/api/v1/tokens/{token}/info"),
		attribute.String("http.request.method", "GET"),
	)
	span.End()
	// The simple processor exports on End; Shutdown would empty exp.
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1", len(spans))
	}
	var got []string
	for _, kv := range spans[0].Attributes {
		got = append(got, string(kv.Key))
	}
	want := []string{"http.route", "http.request.method"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("exported attributes %v, want %v", got, want)
	}
}
