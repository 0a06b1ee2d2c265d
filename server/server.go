package server

import (
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
	"tokenauthority/ratelimit"
	"tokenauthority/seal"
	"tokenauthority/storage"
)

// Defaults for the zero values of Config.
const (
	DefaultRefreshGrace = 10 * time.Minute
	DefaultSeedTTL      = 10 * time.Minute
)

// maxRequestBytes caps a gRPC request message.
const maxRequestBytes = 64 << 10

// Config is what the services need. Store, Box and Credentials are required.
type Config struct {
	Store       *storage.Store
	Box         *seal.Box
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
	Logger         *slog.Logger
	Metrics        *metrics.Metrics
	// Usage, when set, is told of every successful use of a token (see
	// UsageRecorder); nil records nothing.
	Usage UsageRecorder
	// Now returns the current time; nil means time.Now. Tests inject a clock.
	Now func() time.Time
}

// Server implements the gRPC services over one store.
type Server struct {
	store   *storage.Store
	box     *seal.Box
	creds   *credential.Set
	reveal  bool
	maxLife time.Duration
	grace   time.Duration
	seedTTL time.Duration
	limits  TransportLimits

	clientLimit  *ratelimit.Limiter
	refreshLimit *ratelimit.Limiter

	log     *slog.Logger
	metrics *metrics.Metrics
	usage   UsageRecorder
	now     func() time.Time
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:   cfg.Store,
		box:     cfg.Box,
		creds:   cfg.Credentials,
		reveal:  cfg.Reveal,
		maxLife: cfg.MaxTokenLifetime,
		grace:   cfg.RefreshGrace,
		seedTTL: cfg.SeedTTL,
		limits:  cfg.Transport.withDefaults(),

		clientLimit:  cfg.ClientLimiter,
		refreshLimit: cfg.RefreshLimiter,

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
	return s
}

// Workspaces returns the WorkspaceService implementation.
func (s *Server) Workspaces() pb.WorkspaceServiceServer { return &workspaceService{s: s} }

// Tokens returns the TokenService implementation.
func (s *Server) Tokens() pb.TokenServiceServer { return &tokenService{s: s} }

// Self returns the SelfService implementation.
func (s *Server) Self() pb.SelfServiceServer { return &selfService{s: s} }

// Register adds the services to a gRPC server.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	pb.RegisterWorkspaceServiceServer(g, s.Workspaces())
	pb.RegisterTokenServiceServer(g, s.Tokens())
	pb.RegisterSelfServiceServer(g, s.Self())
	pb.RegisterAdminServiceServer(g, s.Admin())
}

// ServerOptions returns the options every gRPC server of the service uses:
// the transport limits of Config.Transport, and the interceptors: the end
// of the request read timer, request logging, metrics and (innermost, so
// that both see the resulting Internal error) panic recovery.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return append(s.limits.serverOptions(),
		// Every request of the API fits in a few hundred bytes; the REST
		// facade refuses bodies over 64 KiB, and gRPC does the same.
		grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.ChainUnaryInterceptor(requestRead, s.logUnary, s.metrics.UnaryServerInterceptor(), s.recoverUnary),
	)
}
