package server

import (
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
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
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// AuditLog, when set, receives every audit event as a JSON line once
	// its change is committed (the store keeps the record either way).
	AuditLog io.Writer
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
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time
	// auditLog copies committed audit events to the log and AuditLog.
	auditLog *auditLog
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
		log:     cfg.Logger,
		metrics: cfg.Metrics,
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
	s.auditLog = &auditLog{log: s.log, w: cfg.AuditLog}
	return s
}

// Workspaces returns the WorkspaceService implementation.
func (s *Server) Workspaces() pb.WorkspaceServiceServer { return &workspaceService{s: s} }

// Tokens returns the TokenService implementation.
func (s *Server) Tokens() pb.TokenServiceServer { return &tokenService{s: s} }

// Self returns the SelfService implementation.
func (s *Server) Self() pb.SelfServiceServer { return &selfService{s: s} }

// Audit returns the AuditService implementation.
func (s *Server) Audit() pb.AuditServiceServer { return &auditService{s: s} }

// Register adds the services to a gRPC server.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	pb.RegisterWorkspaceServiceServer(g, s.Workspaces())
	pb.RegisterTokenServiceServer(g, s.Tokens())
	pb.RegisterSelfServiceServer(g, s.Self())
	pb.RegisterAuditServiceServer(g, s.Audit())
}

// ServerOptions returns the interceptors every gRPC server of the service
// uses: request logging, metrics and (innermost, so that both see the
// resulting Internal error) panic recovery.
func (s *Server) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		// Every request of the API fits in a few hundred bytes; the REST
		// facade refuses bodies over 64 KiB, and gRPC does the same.
		grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.ChainUnaryInterceptor(s.logUnary, s.metrics.UnaryServerInterceptor(), s.recoverUnary),
	}
}
