package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/reason"
)

// TokenHeader is the header (and gRPC metadata key) the hub SDK sends its
// token in.
const TokenHeader = "token"

// Target is what a request asks for: an operation on a zoo
// ("workspace/zoo"). The zero Target asks only for a valid token.
type Target struct {
	Zoo       string
	Operation pb.Operation
}

type verdictKey struct{}

// FromContext returns the verdict the middleware or interceptor stored.
func FromContext(ctx context.Context) (Verdict, bool) {
	v, ok := ctx.Value(verdictKey{}).(Verdict)
	return v, ok
}

// Middleware protects an HTTP handler. target says what a request asks
// for (nil: every request needs a valid token); an error from it answers
// 400 with its text. An allowed request reaches next with its Verdict in
// the context; others get 401 or 403 with a JSON "detail" and "reason".
func (c *Client) Middleware(target func(*http.Request) (Target, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var t Target
			if target != nil {
				var err error
				if t, err = target(r); err != nil {
					writeJSON(w, http.StatusBadRequest, err.Error(), "")
					return
				}
			}
			v, err := c.decide(r.Context(), tokenOf(r.Header.Get(TokenHeader), r.Header.Get("Authorization")), t)
			if err != nil {
				code := http.StatusServiceUnavailable
				if status.Code(err) == codes.InvalidArgument {
					code = http.StatusBadRequest
				}
				writeJSON(w, code, status.Convert(err).Message(), "")
				return
			}
			if !v.Allowed {
				code := http.StatusForbidden
				if reason.Unauthenticated(v.Reason) {
					code = http.StatusUnauthorized
					w.Header().Set("WWW-Authenticate", `Bearer realm="tokenauthority"`)
				}
				writeJSON(w, code, reason.Describe(v.Reason), v.Reason.String())
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), verdictKey{}, v)))
		})
	}
}

// UnaryServerInterceptor protects the unary methods of a gRPC server, with
// the token read from the incoming "token" or "authorization: Bearer"
// metadata. target says what a call asks for (nil: every call needs a
// valid token); an error from it becomes InvalidArgument. Denials are
// Unauthenticated or PermissionDenied; an unreachable authority is
// Unavailable.
func (c *Client) UnaryServerInterceptor(target func(ctx context.Context, fullMethod string, req any) (Target, error)) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		var t Target
		if target != nil {
			var err error
			if t, err = target(ctx, info.FullMethod, req); err != nil {
				return nil, status.Error(codes.InvalidArgument, err.Error())
			}
		}
		md, _ := metadata.FromIncomingContext(ctx)
		v, err := c.decide(ctx, tokenOf(first(md.Get(TokenHeader)), first(md.Get("authorization"))), t)
		if err != nil {
			if status.Code(err) == codes.InvalidArgument {
				return nil, status.Error(codes.InvalidArgument, status.Convert(err).Message())
			}
			return nil, status.Error(codes.Unavailable, "the token authority could not be asked: "+status.Convert(err).Message())
		}
		if !v.Allowed {
			code := codes.PermissionDenied
			if reason.Unauthenticated(v.Reason) {
				code = codes.Unauthenticated
			}
			return nil, status.Error(code, reason.Describe(v.Reason))
		}
		return next(context.WithValue(ctx, verdictKey{}, v), req)
	}
}

// decide asks CheckAccess for a target, or Validate for none.
func (c *Client) decide(ctx context.Context, secret string, t Target) (Verdict, error) {
	if t.Zoo == "" {
		return c.Validate(ctx, secret)
	}
	return c.CheckAccess(ctx, secret, t.Zoo, t.Operation)
}

// tokenOf picks the token of a request: the "token" header, else a Bearer
// authorization.
func tokenOf(tokenHeader, authorization string) string {
	if t := strings.TrimSpace(tokenHeader); t != "" {
		return t
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if ok && strings.EqualFold(scheme, "bearer") {
		return strings.TrimSpace(cred)
	}
	return ""
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func writeJSON(w http.ResponseWriter, code int, detail, reason string) {
	body := map[string]string{"detail": detail}
	if reason != "" {
		body["reason"] = reason
	}
	b, _ := json.Marshal(body) // strings always encode
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
