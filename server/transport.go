package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/tap"

	"tokenauthority/metrics"
)

// TransportLimits bound what one client can hold on the gRPC port. A zero
// field takes its default from DefaultTransportLimits.
type TransportLimits struct {
	// MaxConcurrentStreams is how many calls one connection may have open
	// at once; further calls wait in the client until one ends.
	MaxConcurrentStreams uint32
	// MaxHeaderListBytes caps the metadata of a call (HTTP/2
	// SETTINGS_MAX_HEADER_LIST_SIZE). The API needs a few hundred bytes.
	MaxHeaderListBytes uint32
	// ConnectionTimeout is how long a new connection may take to complete
	// the HTTP/2 handshake before it is closed.
	ConnectionTimeout time.Duration
	// RequestReadTimeout is how long a call may wait for its (first)
	// request message after its headers arrived. Past it the call is
	// cancelled, so a client cannot hold a stream and its goroutine by
	// opening calls it never sends.
	RequestReadTimeout time.Duration
	// KeepaliveMinTime is the shortest interval between client pings the
	// server tolerates; a client pinging more often is sent GOAWAY
	// ("too_many_pings") and disconnected.
	KeepaliveMinTime time.Duration
	// KeepaliveTime is how long a connection may be silent before the
	// server pings it to see it is still there (20 s to answer).
	KeepaliveTime time.Duration
	// MaxConnectionIdle closes a connection that had no call for this long;
	// clients reconnect transparently.
	MaxConnectionIdle time.Duration
}

// DefaultTransportLimits are generous for every real client (a gateway
// keeps a few connections with tens of calls in flight on each) and small
// enough that idle or malicious clients cannot pile up goroutines and
// memory.
func DefaultTransportLimits() TransportLimits {
	return TransportLimits{
		MaxConcurrentStreams: 256,
		MaxHeaderListBytes:   8 << 10,
		ConnectionTimeout:    10 * time.Second,
		RequestReadTimeout:   10 * time.Second,
		KeepaliveMinTime:     10 * time.Second,
		KeepaliveTime:        2 * time.Minute,
		MaxConnectionIdle:    15 * time.Minute,
	}
}

// withDefaults fills the zero fields of l.
func (l TransportLimits) withDefaults() TransportLimits {
	d := DefaultTransportLimits()
	if l.MaxConcurrentStreams == 0 {
		l.MaxConcurrentStreams = d.MaxConcurrentStreams
	}
	if l.MaxHeaderListBytes == 0 {
		l.MaxHeaderListBytes = d.MaxHeaderListBytes
	}
	if l.ConnectionTimeout <= 0 {
		l.ConnectionTimeout = d.ConnectionTimeout
	}
	if l.RequestReadTimeout <= 0 {
		l.RequestReadTimeout = d.RequestReadTimeout
	}
	if l.KeepaliveMinTime <= 0 {
		l.KeepaliveMinTime = d.KeepaliveMinTime
	}
	if l.KeepaliveTime <= 0 {
		l.KeepaliveTime = d.KeepaliveTime
	}
	if l.MaxConnectionIdle <= 0 {
		l.MaxConnectionIdle = d.MaxConnectionIdle
	}
	return l
}

// serverOptions are the grpc-go options that enforce l.
func (l TransportLimits) serverOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(l.MaxConcurrentStreams),
		grpc.MaxHeaderListSize(l.MaxHeaderListBytes),
		grpc.ConnectionTimeout(l.ConnectionTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime: l.KeepaliveMinTime,
			// Gateways keep pooled connections alive between bursts.
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: l.MaxConnectionIdle,
			Time:              l.KeepaliveTime,
			Timeout:           20 * time.Second,
		}),
	}
}

// errNoRequest cancels a call whose request message did not arrive in time.
var errNoRequest = errors.New("no request message within the request read timeout")

type readTimerKey struct{}

// tapHandle is the server's one tap handle (grpc-go takes one), which runs
// when a call's headers arrive, before its request message is read: it
// holds the methods that need no credential to their per-address limits
// (a refused call costs no decoding, and its message is never read), then
// starts the request read timer (requestReadDeadline).
func (s *Server) tapHandle(d time.Duration) tap.ServerInHandle {
	deadline := requestReadDeadline(d)
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		admitted := false
		if l, what := s.openLimit(info.FullMethodName); l != nil {
			if err := limitAddr(l, peerAddr(ctx), what); err != nil {
				// Counted like any answered call; the interceptor that
				// counts them never runs for this one.
				s.metrics.ObserveRequest(metrics.TransportGRPC, info.FullMethodName, codes.ResourceExhausted.String(), 0)
				return ctx, s.toStatus(ctx, info.FullMethodName, err)
			}
			admitted = true
		}
		ctx, err := deadline(ctx, info)
		if rc, ok := ctx.(*readContext); ok {
			rc.admitted = admitted
		}
		return ctx, err
	}
}

// requestReadDeadline starts the request read timer of every new stream.
// grpc-go reads a unary request before any interceptor runs, and reads it
// under the stream's context, so the only way to bound that wait is to
// give the stream a context that the timer cancels; the tap handle is
// where that context is made. The timer is stopped once the request has
// been read (Server.unary, requestReadStream); the context itself ends
// with the stream.
//
// Every call pays for this, so it is kept small: the context that carries
// the timer is the stream's context itself (no separate context value),
// and timers that were stopped before they fired are reused.
func requestReadDeadline(d time.Duration) tap.ServerInHandle {
	pool := &sync.Pool{}
	return func(ctx context.Context, _ *tap.Info) (context.Context, error) {
		ctx, cancel := context.WithCancelCause(ctx)
		rc := &readContext{Context: ctx, cancel: cancel, pool: pool}
		if t, ok := pool.Get().(*readTimer); ok {
			rc.timer = t
			t.call.Store(rc)
			t.t.Reset(d)
		} else {
			t = &readTimer{}
			rc.timer = t
			t.call.Store(rc)
			t.t = time.AfterFunc(d, t.fire)
		}
		return rc, nil
	}
}

// readContext is a stream's context while its request read timer runs.
type readContext struct {
	context.Context
	cancel context.CancelCauseFunc
	pool   *sync.Pool
	// timer is taken by the first stop (only the call's own goroutine
	// stops it).
	timer *readTimer
	// admitted says the tap handle held the call to its open limit
	// (admittedKey).
	admitted bool
}

func (c *readContext) Value(key any) any {
	switch key {
	case readTimerKey{}:
		return c
	case admittedKey{}:
		if c.admitted {
			return true
		}
		return nil
	}
	return c.Context.Value(key)
}

// readTimer cancels the call it is armed for when it fires.
type readTimer struct {
	t    *time.Timer
	call atomic.Pointer[readContext]
}

func (t *readTimer) fire() {
	if c := t.call.Load(); c != nil {
		c.cancel(errNoRequest)
	}
}

// stopReadTimer marks the request of ctx's call as read.
func stopReadTimer(ctx context.Context) {
	c, ok := ctx.Value(readTimerKey{}).(*readContext)
	if !ok || c.timer == nil {
		return
	}
	t := c.timer
	c.timer = nil
	// A timer stopped before it fired will not fire: it can serve another
	// call. One that fired (or is firing) is left to the collector.
	if t.t.Stop() {
		t.call.Store(nil)
		c.pool.Put(t)
	}
}

// requestReadStream bounds a streaming call's wait for its first message
// (reflection, health Watch); later messages may take as long as the client
// likes, within MaxConnectionIdle and keepalive. It also answers a message
// the codec could not decode with its InvalidArgument status (failed).
func requestReadStream(failed *decodeFailures) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
		return next(srv, &firstRead{ServerStream: ss, failed: failed})
	}
}

// firstRead stops the request read timer when the first message arrives.
type firstRead struct {
	grpc.ServerStream
	failed *decodeFailures
	done   bool
}

func (s *firstRead) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if !s.done {
		s.done = true
		stopReadTimer(s.Context())
	}
	if err == nil {
		err = s.failed.take(m)
	}
	return err
}
