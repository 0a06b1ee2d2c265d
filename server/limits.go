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
// per-address limit: the public ones (SDK self-service, leak reports) to
// the client limiter, and the gateway decisions, when they are open, to
// the gateway limiter, whose budget is sized for a proxy that sends all of
// its users' requests from one address.
func (s *Server) limitOpen(ctx context.Context, method string) error {
	switch requiredAccess(method) {
	case public:
		return limitAddr(s.clientLimit, peerAddr(ctx), "too many requests from this client address")
	case gateway:
		if !s.gatewayCred {
			return limitAddr(s.gatewayLimit, peerAddr(ctx), "too many gateway decisions from this address")
		}
	}
	return nil
}

// limitForwardAuth applies the gateway limiter to the HTTP forward-auth
// endpoint, which is a plain handler rather than an RPC. A limited request
// gets 429 with Retry-After and a JSON detail (nginx reports a status other
// than 401 and 403 as a failed subrequest, so the request is refused
// either way).
func (s *Server) limitForwardAuth(next http.Handler) http.Handler {
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
