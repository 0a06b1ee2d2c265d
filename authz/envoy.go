package authz

import (
	"context"
	"net/http"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"

	"tokenauthority/access"
)

// Keys of Envoy's per-route context_extensions that name the target
// instead of the path rules.
const (
	ExtensionZoo       = "zoo"       // "workspace/zoo"
	ExtensionOperation = "operation" // "download" or "cloud_inference"
)

// identityHeaders are the lower-case names Envoy uses.
var identityHeaders = []string{"x-workspace-id", "x-token-id", "x-user-id"}

// Check answers Envoy's ext_authz question. The zoo and operation come
// from the context_extensions "zoo" and "operation" when either is set,
// else from the path rules; the token from the "token" header or an
// "authorization: Bearer" header. Denials are CheckResponses, not errors:
// an error is a storage failure, which Envoy treats as its
// failure_mode_allow setting says (denied by default).
func (g *Gateway) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	attrs := req.GetAttributes()
	h := attrs.GetRequest().GetHttp()
	get := func(name string) string { return envoyHeader(h, strings.ToLower(name)) }

	t, refused := g.envoyTarget(attrs.GetContextExtensions(), h)
	if refused != nil {
		return deniedResponse(*refused), nil
	}
	o, err := g.decide(ctx, tokenFrom(get), t)
	if err != nil {
		return nil, err
	}
	if o.status != http.StatusOK {
		return deniedResponse(o), nil
	}
	return okResponse(o), nil
}

// envoyTarget reads the target from the context extensions, or else from
// the request's path under the rules.
func (g *Gateway) envoyTarget(ext map[string]string, h *authv3.AttributeContext_HttpRequest) (Target, *outcome) {
	zoo, hasZoo := ext[ExtensionZoo]
	opName, hasOp := ext[ExtensionOperation]
	if !hasZoo && !hasOp {
		if h == nil {
			o := refuse("the check carries no HTTP request attributes and no zoo and operation context extensions")
			return Target{}, &o
		}
		return g.target(h.GetMethod(), h.GetPath())
	}
	if !hasZoo || !hasOp {
		o := refuse(`the route's context_extensions must set both "zoo" and "operation", or neither`)
		return Target{}, &o
	}
	op, err := ParseOperation(opName)
	if err != nil {
		o := refuse("context_extensions: " + err.Error())
		return Target{}, &o
	}
	ws, zn, err := access.ParseZoo(zoo)
	if err != nil {
		o := refuse("context_extensions: " + err.Error())
		return Target{}, &o
	}
	return Target{WorkspaceID: ws, ZooID: zn, Operation: op}, nil
}

// envoyHeader returns the request header of that lower-case name. Envoy
// sends the headers in headers, with lower-case names, or in header_map
// when encode_raw_headers is set; names are compared without regard to
// case either way, and of several entries of one name in header_map the
// last counts. Nothing is copied: the name Envoy sends is looked up first.
func envoyHeader(h *authv3.AttributeContext_HttpRequest, name string) string {
	if m := h.GetHeaders(); len(m) > 0 {
		if v, ok := m[name]; ok {
			return v
		}
		for k, v := range m {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
	var out string
	for _, hv := range h.GetHeaderMap().GetHeaders() {
		if !strings.EqualFold(hv.GetKey(), name) {
			continue
		}
		out = hv.GetValue()
		if out == "" {
			out = string(hv.GetRawValue())
		}
	}
	return out
}

func okResponse(o outcome) *authv3.CheckResponse {
	// Every allowed request gets one: its messages in one allocation, and
	// the headers to remove shared between responses (responses are only
	// marshalled, never changed).
	out := &struct {
		resp    authv3.CheckResponse
		status  status.Status
		oneof   authv3.CheckResponse_OkResponse
		ok      authv3.OkHttpResponse
		opts    [3]corev3.HeaderValueOption
		values  [3]corev3.HeaderValue
		headers [3]*corev3.HeaderValueOption
	}{}
	out.ok.HeadersToRemove = removeForToken
	d := o.decision
	if d.Anonymous() {
		out.ok.HeadersToRemove = removeForAnonymous
	} else {
		for i, v := range [3]string{d.WorkspaceID, d.TokenID, d.UserID} {
			out.values[i] = corev3.HeaderValue{Key: identityHeaders[i], Value: v}
			out.opts[i].Header = &out.values[i]
			out.opts[i].AppendAction = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			out.headers[i] = &out.opts[i]
		}
		out.ok.Headers = out.headers[:]
	}
	out.status.Code = int32(codes.OK)
	out.oneof.OkResponse = &out.ok
	out.resp.Status = &out.status
	out.resp.HttpResponse = &out.oneof
	return &out.resp
}

// The headers an allowed request loses on its way upstream: the token,
// and for an anonymous one also identity headers a client may have sent.
var (
	removeForToken     = tokenHeaderList()
	removeForAnonymous = append(tokenHeaderList(), identityHeaders...)
)

func tokenHeaderList() []string {
	h := TokenHeaders()
	return h[:]
}

func deniedResponse(o outcome) *authv3.CheckResponse {
	code, httpCode := codes.PermissionDenied, typev3.StatusCode_Forbidden
	headers := []*corev3.HeaderValueOption{header("content-type", "application/json", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)}
	if o.status == http.StatusUnauthorized {
		code, httpCode = codes.Unauthenticated, typev3.StatusCode_Unauthorized
		headers = append(headers, header("www-authenticate", `Bearer realm="tokenauthority"`, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
	}
	return &authv3.CheckResponse{
		Status: &status.Status{Code: int32(code), Message: o.detail},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: httpCode},
			Headers: headers,
			Body:    o.body(),
		}},
	}
}

func header(k, v string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: action}
}
