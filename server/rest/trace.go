package rest

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// nameSpan names the request's span, when one is recorded, by its route
// label ("POST /v1/tokens:validate") and sets http.route to its path
// template, as the metrics and logs name it: never by the raw path, which
// can hold a token secret.
func nameSpan(ctx context.Context, route string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetName(route)
	if _, template, ok := strings.Cut(route, " "); ok {
		span.SetAttributes(attribute.String("http.route", template))
	}
}
