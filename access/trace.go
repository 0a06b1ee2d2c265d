package access

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
)

// Attributes of the decision spans. They name the token and the zoo by id
// and say why; nothing of the presented secret.
const (
	AttrWorkspaceID = attribute.Key("tokenauthority.workspace_id")
	AttrTokenID     = attribute.Key("tokenauthority.token_id")
	AttrReason      = attribute.Key("tokenauthority.reason")
	AttrAllowed     = attribute.Key("tokenauthority.allowed")
	AttrZoo         = attribute.Key("tokenauthority.zoo")
	AttrOperation   = attribute.Key("tokenauthority.operation")
)

// Names of the decision spans.
const (
	SpanResolve = "tokenauthority.resolve"
	SpanDecide  = "tokenauthority.decide"
)

// traced reports whether a decision made in ctx gets a span of its own:
// only inside a span that is recorded, so that with tracing off, or on a
// request the sampler left out, a decision costs one context lookup.
func (a *Authority) traced(ctx context.Context) bool {
	return a.tracer != nil && trace.SpanFromContext(ctx).IsRecording()
}

// resolveTraced is Resolve in a span that names the matched token and
// the verdict's reason.
func (a *Authority) resolveTraced(ctx context.Context, secret string, rec *storagepb.TokenRecord) (Verdict, error) {
	ctx, span := a.tracer.Start(ctx, SpanResolve, trace.WithSpanKind(trace.SpanKindInternal))
	defer span.End()
	v, err := a.resolveUsed(ctx, secret, rec)
	if err != nil {
		storeFailed(span)
		return v, err
	}
	// A revoked or expired token is named too: which token was refused is
	// what an operator looks for.
	if t := v.Token(); t != nil {
		span.SetAttributes(AttrWorkspaceID.String(t.GetWorkspaceId()), AttrTokenID.String(t.GetTokenId()))
	}
	span.SetAttributes(AttrReason.String(v.Reason.String()))
	return v, nil
}

// decideTraced is Decide in a span that names the zoo asked for, the
// valid token and the decision.
func (a *Authority) decideTraced(ctx context.Context, req Request) (Decision, error) {
	ctx, span := a.tracer.Start(ctx, SpanDecide, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(AttrZoo.String(req.WorkspaceID+"/"+req.ZooID), AttrOperation.String(req.Operation.String())))
	defer span.End()
	d, err := a.decide(ctx, req)
	if err != nil {
		storeFailed(span)
		return d, err
	}
	if !d.Anonymous() {
		span.SetAttributes(AttrWorkspaceID.String(d.WorkspaceID), AttrTokenID.String(d.TokenID))
	}
	span.SetAttributes(AttrReason.String(d.Reason.String()), AttrAllowed.Bool(d.Allowed))
	return d, nil
}

// storeFailed marks a decision the store could not make. The error's own
// text stays out of the span: the transports log it.
func storeFailed(span trace.Span) {
	span.SetStatus(codes.Error, "the store failed")
}
