package server

import (
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"

	"tokenauthority/access"
	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
	"tokenauthority/ratelimit"
	"tokenauthority/storage"
	"tokenauthority/tracing"
)

// Defaults for the zero values of Config.
const (
	DefaultRefreshGrace = 10 * time.Minute
	DefaultSeedTTL      = 10 * time.Minute
)

// maxRequestBytes caps a gRPC request message.
const maxRequestBytes = 64 << 10

// Sealer seals and opens revealable secrets, bound to their record by aad:
// a *seal.Ring (the master key ring) or a *seal.Box (one key).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Config is what the services need. Store, Box and Credentials are required.
type Config struct {
	Store       storage.Backend
	Box         Sealer
	Credentials *credential.Set
	// Reveal keeps an encrypted copy of every new secret so that RevealToken can
	// return it later. When false, only hashes are stored.
	Reveal bool
	// MaxTokenLifetime, when positive, caps how far in the future a token may
	// expire, and makes an expiry mandatory.
	MaxTokenLifetime time.Duration
	// RefreshGrace is how long a refreshed token keeps working; 0 means
	// DefaultRefreshGrace.
	RefreshGrace time.Duration
	// RefreshReuseInterval is how long after an SDK refresh a repeat of it
	// (a client retrying after a lost answer) gets the same new token
	// instead of revoking the family as a reuse; 0 means no repeats.
	RefreshReuseInterval time.Duration
	// SeedTTL is how long a seed can be picked after its token was created; 0
	// means DefaultSeedTTL.
	SeedTTL time.Duration
	// Transport bounds what a client can hold on the gRPC port; zero
	// fields take DefaultTransportLimits.
	Transport TransportLimits
	// ClientLimiter, when set, limits per client address the calls of the
	// methods that need no service credential (public in the access
	// table), on gRPC and REST alike. Share it with other public
	// endpoints so that they draw on one budget.
	ClientLimiter *ratelimit.Limiter
	// RefreshLimiter, when set, also limits RefreshToken per token.
	RefreshLimiter *ratelimit.Limiter
	// GatewayLimiter, when set, limits per client address the gateway
	// decisions (Envoy's Check while it needs no credential, and
	// /v1/authz). A gateway sends every user's request from its own
	// address, so its budget must be far larger than ClientLimiter's.
	GatewayLimiter *ratelimit.Limiter
	Logger         *slog.Logger
	Metrics        *metrics.Metrics
	// AuditLog, when set, receives every audit event as a JSON line once
	// its change is committed (the store keeps the record either way).
	AuditLog io.Writer
	// Usage, when set, is told of every successful use of a token (see
	// UsageRecorder); nil records nothing.
	Usage UsageRecorder
	// Codec encodes and decodes the gRPC messages; nil means grpc-go's
	// protobuf codec. Daemon passes authz.EnvoyCodec, which decodes Envoy's
	// CheckRequest its own way. Either way a message it cannot decode is
	// answered with InvalidArgument (codec_errors.go).
	Codec encoding.CodecV2
	// GatewayCredential makes Envoy's ext_authz Check require a validator
	// service credential (sent by Envoy as gRPC initial metadata). Off by
	// default: Check answers only what the request's own token may do, so
	// an open Check tells a caller nothing it could not learn by making the
	// request through the gateway.
	GatewayCredential bool
	// LeakQueue is how many answered leak reports may wait for their
	// lookup at once; 0 means DefaultLeakQueue. A report arriving when it
	// is full is refused with ResourceExhausted (HTTP 429).
	LeakQueue int
	// Now returns the current time; nil means time.Now. Tests inject a clock.
	Now func() time.Time
	// Tracing, when not nil, puts every call and every decision made in a
	// traced request in a span of its own (authz.Gateway.TracedCheck
	// continues the trace an Envoy Check's HTTP request names). Nil traces
	// nothing.
	Tracing *tracing.Tracing
}

// Server implements the gRPC services over one store.
type Server struct {
	store  storage.Backend
	access *access.Authority
	// gatewayCred makes gateway methods need a validator credential.
	gatewayCred   bool
	box           Sealer
	creds         *credential.Set
	reveal        bool
	maxLife       time.Duration
	grace         time.Duration
	repeatRefresh time.Duration
	seedTTL       time.Duration
	limits        TransportLimits

	clientLimit  *ratelimit.Limiter
	refreshLimit *ratelimit.Limiter
	gatewayLimit *ratelimit.Limiter

	log     *slog.Logger
	metrics *metrics.Metrics
	usage   UsageRecorder
	now     func() time.Time
	// auditLog copies committed audit events to the log and AuditLog.
	auditLog *auditLog
	// leaks holds answered leak reports for their worker (Close stops it).
	leaks *leakQueue
	// codec decodes requests, reporting those it cannot decode to the
	// interceptors (codec_errors.go).
	codec codec
	// pollers remembers who polled each seed (in memory, a minute).
	pollers *pollers
	tracing *tracing.Tracing
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:         cfg.Store,
		box:           cfg.Box,
		creds:         cfg.Credentials,
		reveal:        cfg.Reveal,
		maxLife:       cfg.MaxTokenLifetime,
		grace:         cfg.RefreshGrace,
		repeatRefresh: cfg.RefreshReuseInterval,
		seedTTL:       cfg.SeedTTL,
		limits:        cfg.Transport.withDefaults(),

		clientLimit:  cfg.ClientLimiter,
		refreshLimit: cfg.RefreshLimiter,
		gatewayLimit: cfg.GatewayLimiter,

		log:     cfg.Logger,
		metrics: cfg.Metrics,
		usage:   cfg.Usage,
		now:     cfg.Now,
	}
	if s.grace <= 0 {
		s.grace = DefaultRefreshGrace
	}
	if s.seedTTL <= 0 {
		s.seedTTL = DefaultSeedTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.usage == nil {
		s.usage = noUsage{}
	}
	s.tracing = cfg.Tracing
	s.access = access.New(access.Config{Store: cfg.Store, Now: s.now, OnUse: s.recordUse, Tracer: cfg.Tracing.Tracer()})
	s.gatewayCred = cfg.GatewayCredential
	s.auditLog = &auditLog{log: s.log, w: cfg.AuditLog}
	s.leaks = newLeakQueue(cfg.LeakQueue)
	s.codec = newCodec(cfg.Codec)
	s.pollers = newPollers()
	return s
}

// Workspaces returns the WorkspaceService implementation.
func (s *Server) Workspaces() pb.WorkspaceServiceServer { return &workspaceService{s: s} }

// Tokens returns the TokenService implementation.
func (s *Server) Tokens() pb.TokenServiceServer { return &tokenService{s: s} }

// Access returns the decision path the services use, for the gateway
// adapters that must decide exactly as they do.
func (s *Server) Access() *access.Authority { return s.access }

// Self returns the SelfService implementation.
func (s *Server) Self() pb.SelfServiceServer { return &selfService{s: s} }

// Audit returns the AuditService implementation.
func (s *Server) Audit() pb.AuditServiceServer { return &auditService{s: s} }

// Register adds the services to a gRPC server. Envoy's Authorization
// service is package authz's, registered beside them (by daemon) through
// Guarded.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	pb.RegisterWorkspaceServiceServer(g, s.Workspaces())
	pb.RegisterTokenServiceServer(g, s.Tokens())
	pb.RegisterSelfServiceServer(g, s.Self())
	pb.RegisterAuditServiceServer(g, s.Audit())
	pb.RegisterAdminServiceServer(g, s.Admin())
}

// ServerOptions returns the options every gRPC server of the service uses:
// the transport limits of Config.Transport, and the interceptor (unary): the end
// of the request read timer, request logging, metrics and (innermost, so
// that both see the resulting Internal error) panic recovery.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return append(s.limits.serverOptions(),
		grpc.InTapHandle(s.tapHandle(s.limits.RequestReadTimeout)),
		// Every request of the API fits in a few hundred bytes; the REST
		// facade refuses bodies over 64 KiB, and gRPC does the same.
		grpc.MaxRecvMsgSize(maxRequestBytes),
		// Config.Codec, reporting what it cannot decode (see codec).
		grpc.ForceServerCodecV2(s.codec),
		grpc.ChainUnaryInterceptor(s.unary),
		grpc.ChainStreamInterceptor(requestReadStream(s.codec.failed)),
	)
}
