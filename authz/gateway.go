package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"tokenauthority/access"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
	"tokenauthority/reason"
)

// Identity headers set upstream on an allowed request.
const (
	HeaderWorkspaceID = "X-Workspace-Id"
	HeaderTokenID     = "X-Token-Id"
	HeaderUserID      = "X-User-Id"
)

// TokenHeader is the header the hub SDK sends its token in.
const TokenHeader = "token"

// TokenHeaders are the request headers a presented token is read from
// (tokenFrom), lower case, in order of precedence: TokenHeader, holding
// the token, then "authorization", holding "Bearer <token>". The gateway
// reads no other request header, so Envoy's CheckRequest decoder keeps
// only these, and an allowed answer removes them before the request goes
// upstream. An array, returned by value: nobody can change the list.
func TokenHeaders() [2]string { return [...]string{TokenHeader, "authorization"} }

// Gateway answers gateways' authorization questions with one Authority.
type Gateway struct {
	access  *access.Authority
	rules   *Rules
	metrics *metrics.Metrics
}

// New returns a Gateway deciding with a under rules (nil: the defaults).
// m may be nil.
func New(a *access.Authority, rules *Rules, m *metrics.Metrics) *Gateway {
	if rules == nil {
		rules = MustDefaultRules()
	}
	return &Gateway{access: a, rules: rules, metrics: m}
}

// outcome is a decision as a gateway renders it.
type outcome struct {
	decision access.Decision
	status   int    // 200, 401 or 403
	detail   string // for a denial
}

// denied is the JSON body of a denial.
type denied struct {
	Detail string `json:"detail"`
	Reason string `json:"reason"`
}

func (o outcome) body() string {
	b, err := json.Marshal(denied{Detail: o.detail, Reason: o.decision.Reason.String()})
	if err != nil {
		// Two strings always encode.
		return `{"detail":"denied","reason":"REASON_UNSPECIFIED"}`
	}
	return string(b)
}

// refuse is a denial before any decision: the request does not say what
// it wants in a way the rules understand.
func refuse(detail string) outcome {
	return outcome{status: http.StatusForbidden, detail: detail}
}

// decide asks the authority about secret and target, and renders the
// answer as an HTTP status. An error is a storage failure.
func (g *Gateway) decide(ctx context.Context, secret string, t Target) (outcome, error) {
	d, err := g.access.Decide(ctx, access.Request{Secret: secret, WorkspaceID: t.WorkspaceID, ZooID: t.ZooID, Operation: t.Operation})
	if err != nil {
		return outcome{}, err
	}
	g.metrics.ObserveDecision(metrics.KindAccess, d.Reason)
	o := outcome{decision: d, status: http.StatusOK}
	if !d.Allowed {
		o.status = http.StatusForbidden
		if reason.Unauthenticated(d.Reason) {
			o.status = http.StatusUnauthorized
		}
		o.detail = reason.Describe(d.Reason)
		if d.Reason == pb.Reason_REASON_ZOO_NOT_FOUND {
			o.detail = fmt.Sprintf("zoo %s/%s does not exist or the token may not reach it", t.WorkspaceID, t.ZooID)
		}
	}
	return o, nil
}

// target finds what a request asks for from its method and original URI.
func (g *Gateway) target(method, uri string) (Target, *outcome) {
	if uri == "" {
		o := refuse("the original request URI is missing: the proxy must send X-Original-URI or X-Forwarded-Uri")
		return Target{}, &o
	}
	t, err := g.rules.Match(method, uri)
	switch {
	case errors.Is(err, ErrNoRule):
		o := refuse("no authorization rule matches the request path, so it is denied")
		return Target{}, &o
	case err != nil:
		o := refuse("the request path is refused: " + strings.TrimPrefix(err.Error(), ErrBadPath.Error()+": "))
		return Target{}, &o
	}
	return t, nil
}

// tokenFrom finds the presented token: the "token" header, else an
// "Authorization: Bearer" header. get returns a header's value.
func tokenFrom(get func(string) string) string {
	h := TokenHeaders()
	if t := strings.TrimSpace(get(h[0])); t != "" {
		return t
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(get(h[1])), " ")
	if ok && strings.EqualFold(scheme, "bearer") {
		return strings.TrimSpace(cred)
	}
	return ""
}
