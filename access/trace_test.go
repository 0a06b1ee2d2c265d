package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"tokenauthority/access"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestDecisionSpans: a decision made inside a recorded span gets a span
// naming the token, the zoo and the reason, and nothing of the secret; one
// made outside a recorded span gets none.
func TestDecisionSpans(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tracer := tp.Tracer("test")
	a := access.New(access.Config{Store: f.store, Now: func() time.Time { return t0 }, Tracer: tracer})

	for _, tc := range []struct {
		name   string
		decide func(ctx context.Context) error
		span   string
		want   map[attribute.Key]string
	}{
		{"resolve a valid token", func(ctx context.Context) error {
			_, err := a.Resolve(ctx, f.secrets["own"])
			return err
		}, access.SpanResolve, map[attribute.Key]string{
			access.AttrWorkspaceID: "acme", access.AttrTokenID: f.ids["own"], access.AttrReason: "REASON_VALID",
		}},
		{"resolve a revoked token", func(ctx context.Context) error {
			_, err := a.Resolve(ctx, f.secrets["revoked"])
			return err
		}, access.SpanResolve, map[attribute.Key]string{
			access.AttrWorkspaceID: "acme", access.AttrTokenID: f.ids["revoked"], access.AttrReason: "REASON_REVOKED",
		}},
		{"resolve a malformed secret", func(ctx context.Context) error {
			_, err := a.Resolve(ctx, f.secrets["own"]+"x")
			return err
		}, access.SpanResolve, map[attribute.Key]string{access.AttrReason: "REASON_MALFORMED"}},
		{"decide on a private zoo", func(ctx context.Context) error {
			_, err := a.Decide(ctx, access.Request{Secret: f.secrets["own"], WorkspaceID: "acme", ZooID: "priv", Operation: pb.Operation_OPERATION_CLOUD_INFERENCE})
			return err
		}, access.SpanDecide, map[attribute.Key]string{
			access.AttrWorkspaceID: "acme", access.AttrTokenID: f.ids["own"], access.AttrReason: "REASON_VALID",
			access.AttrAllowed: "true", access.AttrZoo: "acme/priv", access.AttrOperation: "OPERATION_CLOUD_INFERENCE",
		}},
		{"decide anonymously", func(ctx context.Context) error {
			_, err := a.Decide(ctx, access.Request{WorkspaceID: "acme", ZooID: "priv", Operation: pb.Operation_OPERATION_DOWNLOAD})
			return err
		}, access.SpanDecide, map[attribute.Key]string{
			access.AttrAllowed: "false", access.AttrZoo: "acme/priv", access.AttrOperation: "OPERATION_DOWNLOAD",
			access.AttrReason: "REASON_ZOO_NOT_FOUND", // a private zoo is not there for an anonymous caller
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Spans of subtests would mix in the one exporter.
			exp.Reset()
			if err := tc.decide(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(exp.GetSpans()); n != 0 {
				t.Fatalf("%d spans outside a recorded span, want 0", n)
			}
			ctx, parent := tracer.Start(context.Background(), "call")
			if err := tc.decide(ctx); err != nil {
				t.Fatal(err)
			}
			parent.End()
			spans := exp.GetSpans()
			if len(spans) != 2 || spans[0].Name != tc.span || spans[0].Parent.SpanID() != parent.SpanContext().SpanID() {
				t.Fatalf("spans %v, want %s under the call's", spans.Snapshots(), tc.span)
			}
			got := map[attribute.Key]string{}
			for _, kv := range spans[0].Attributes {
				got[kv.Key] = kv.Value.Emit()
				for _, s := range f.secrets {
					if strings.Contains(kv.Value.Emit(), s) {
						t.Errorf("attribute %s holds a secret", kv.Key)
					}
				}
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("attribute %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("attributes %v, want exactly %v", got, tc.want)
			}
			if spans[0].Status.Code != codes.Unset {
				t.Errorf("status %v, want unset", spans[0].Status)
			}
		})
	}
}
