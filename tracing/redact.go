package tracing

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// redactor passes every ended span on to its processor without the
// attributes that can carry a secret (see redactedKey). It runs only for
// spans that are recorded, after the request has been answered.
type redactor struct{ sdktrace.SpanProcessor }

func (r redactor) OnEnd(s sdktrace.ReadOnlySpan) { r.SpanProcessor.OnEnd(redacted{s}) }

// redacted is a span whose attributes are filtered on the way out.
type redacted struct{ sdktrace.ReadOnlySpan }

func (s redacted) Attributes() []attribute.KeyValue {
	attrs := s.ReadOnlySpan.Attributes()
	out := make([]attribute.KeyValue, 0, len(attrs))
	for _, kv := range attrs {
		if !redactedKey(string(kv.Key)) {
			out = append(out, kv)
		}
	}
	return out
}

// redactedKey reports whether an attribute is never exported: the raw URL
// (the SDK's self-service paths hold a token secret, and a query can) and
// any request or response header or gRPC metadata (Authorization, the
// gateway's token headers), whichever semantic-convention version named
// them.
func redactedKey(k string) bool {
	switch k {
	case "url.path", "url.query", "url.full", "http.target", "http.url":
		return true
	}
	for _, p := range []string{"http.request.header.", "http.response.header.", "rpc.grpc.request.metadata.", "rpc.grpc.response.metadata."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
