package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
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

// limitClient takes one request of the caller's client address from the
// limiter of the public methods.
func (s *Server) limitClient(ctx context.Context) error {
	if !s.clientLimit.Enabled() {
		return nil
	}
	var addr net.Addr
	if p, ok := peer.FromContext(ctx); ok {
		addr = p.Addr
	}
	if ok, after := s.clientLimit.Allow(ratelimit.AddrKey(addr)); !ok {
		return &limitedError{what: "too many requests from this client address", retryAfter: after}
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
