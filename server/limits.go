package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"google.golang.org/grpc/peer"

	"tokenauthority/ratelimit"
)

// limitedError is a request refused by a rate limit; toStatus makes it
// ResourceExhausted with a RetryInfo detail, which the REST facade turns
// into 429 and Retry-After.
type limitedError struct {
	what       string
	retryAfter time.Duration
}

func (e *limitedError) Error() string { return e.what }

// limitOpen holds the methods that need no service credential to their
// per-address limit (openLimit), unless the request was admitted already,
// before its body was read: by the gRPC tap handle (transport.go) or the
// REST facade (AdmitOpen). Handlers reached another way (tests calling
// the services in-process) are still limited here.
func (s *Server) limitOpen(ctx context.Context, method string) error {
	if ctx.Value(admittedKey{}) != nil {
		return nil
	}
	return s.takeOpen(ctx, method)
}

// openLimit is the limiter of a method that needs no service credential:
// the public ones (SDK self-service, leak reports) have the client
// limiter, and the gateway decisions, when they are open, the gateway
// limiter, whose budget is sized for a proxy that sends all of its users'
// requests from one address. nil for other methods or when the limit is
// off.
func (s *Server) openLimit(method string) (l *ratelimit.Limiter, what string) {
	switch requiredAccess(method) {
	case public:
		l, what = s.clientLimit, "too many requests from this client address"
	case gateway:
		if !s.gatewayCred {
			l, what = s.gatewayLimit, "too many gateway decisions from this address"
		}
	}
	if !l.Enabled() {
		return nil, ""
	}
	return l, what
}

// takeOpen takes one request of method from its open limit, if it has one.
func (s *Server) takeOpen(ctx context.Context, method string) error {
	l, what := s.openLimit(method)
	if l == nil {
		return nil
	}
	return limitAddr(l, peerAddr(ctx), what)
}

// admittedKey marks a context whose request has been held to its open
// limit already.
type admittedKey struct{}

// AdmitOpen holds a request for method to its per-address limit before
// its body is read, so that a flood costs the server no decoding: it
// returns the status to answer when the request is refused, and otherwise
// ctx marked so that the handler does not count the request again. Methods
// without an open limit pass unmarked. The REST facade calls it before it
// decodes a body; gRPC calls are admitted by the tap handle.
func (s *Server) AdmitOpen(ctx context.Context, method string) (context.Context, error) {
	l, what := s.openLimit(method)
	if l == nil {
		return ctx, nil
	}
	if err := limitAddr(l, peerAddr(ctx), what); err != nil {
		return ctx, s.toStatus(ctx, method, err)
	}
	return context.WithValue(ctx, admittedKey{}, true), nil
}

// LimitGateway puts next, the HTTP forward-auth endpoint (GET /v1/authz,
// package authz's, wired by daemon), under the gateway limiter: it is a
// plain handler rather than an RPC. A limited request
// gets 429 with Retry-After and a JSON detail (nginx reports a status other
// than 401 and 403 as a failed subrequest, so the request is refused
// either way).
func (s *Server) LimitGateway(next http.Handler) http.Handler {
	if !s.gatewayLimit.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var addr net.Addr
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			addr = net.TCPAddrFromAddrPort(ap)
		}
		err := limitAddr(s.gatewayLimit, addr, "too many gateway decisions from this address")
		var le *limitedError
		if errors.As(err, &le) {
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(le.retryAfter)))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			body, _ := json.Marshal(map[string]string{"detail": le.what + "; retry in " + strconv.Itoa(ratelimit.RetryAfterSeconds(le.retryAfter)) + " s"})
			_, _ = w.Write(body)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func peerAddr(ctx context.Context) net.Addr {
	if p, ok := peer.FromContext(ctx); ok {
		return p.Addr
	}
	return nil
}

// limitAddr takes one request of addr from l.
func limitAddr(l *ratelimit.Limiter, addr net.Addr, what string) error {
	if !l.Enabled() {
		return nil
	}
	if ok, after := l.AllowAddr(addr); !ok {
		return &limitedError{what: what, retryAfter: after}
	}
	return nil
}

// limitRefresh takes one refresh of the token whose secret is given, so
// that one leaked token cannot be refreshed in a tight loop from many
// addresses. The key is a hash: secrets are never kept.
func (s *Server) limitRefresh(secret string) error {
	if !s.refreshLimit.Enabled() {
		return nil
	}
	h := sha256.Sum256([]byte(secret))
	if ok, after := s.refreshLimit.Allow(hex.EncodeToString(h[:16])); !ok {
		return &limitedError{what: "this token is being refreshed too often", retryAfter: after}
	}
	return nil
}
