package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"tokenauthority/authz"
	"tokenauthority/buildinfo"
	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
	"tokenauthority/ratelimit"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/server/rest"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	etcdstore "tokenauthority/storage/etcd"
	"tokenauthority/tracing"
	"tokenauthority/ui"
	"tokenauthority/usage"
)

// seedPurgeInterval is how often expired, unpicked seeds are deleted.
const seedPurgeInterval = time.Minute

// A token may be refreshed refreshBurst times at once, then once every ten
// seconds, from any number of addresses: the SDK refreshes a token once,
// near its expiry.
const (
	refreshRate  = 0.1
	refreshBurst = 5
)

// Daemon is a running service.
type Daemon struct {
	// GRPCAddr and HTTPAddr are the bound listener addresses (useful when
	// the configuration asked for port 0).
	GRPCAddr, HTTPAddr net.Addr

	cfg   Config
	log   *slog.Logger
	store storage.Backend
	usage *usage.Recorder
	// auditLog is the --audit-log file, nil when there is none or it is
	// stdout.
	auditLog *os.File
	grpc     *grpc.Server
	http     *http.Server
	health   *health.Server
	// srv is the services, whose leak report worker Shutdown drains.
	srv *server.Server
	// tracing exports spans; nil when tracing is off.
	tracing *tracing.Tracing
	metrics *metrics.Metrics
	stop    context.CancelFunc
	wg      sync.WaitGroup
	errc    chan error

	closeOnce sync.Once
	closeErr  error
}

// Start opens everything cfg names and starts serving. It returns once both
// listeners are bound; serving errors are reported by Wait.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Daemon, error) {
	// Bind first: a port that is taken must fail the start before anything
	// is written to the data directory.
	gl, hl, err := listen(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d, err := start(ctx, cfg, log, gl, hl)
	if err != nil {
		_ = gl.Close()
		_ = hl.Close()
		return nil, err
	}
	return d, nil
}

// listen binds the gRPC and HTTP listeners.
func listen(ctx context.Context, cfg Config) (gl, hl net.Listener, err error) {
	var lc net.ListenConfig
	gl, err = lc.Listen(ctx, "tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for gRPC on %s: %w", cfg.GRPCAddr, err)
	}
	hl, err = lc.Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		_ = gl.Close()
		return nil, nil, fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	return gl, hl, nil
}

func start(ctx context.Context, cfg Config, log *slog.Logger, gl, hl net.Listener) (*Daemon, error) {
	// Member mode without its proxies fails before anything is written.
	if _, err := cfg.trustedUser(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if cfg.masterKeyOnCommandLine {
		log.Warn("the master key was given with --master-key, which every local user can read in the process list; " +
			"use " + EnvPrefix + "MASTER_KEY or --master-key-file instead")
	}
	rules, err := authz.LoadRules(cfg.AuthzRules)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)

	// The store's file lock comes before the key and the credential, so a
	// second server on the same directory stops before touching either.
	store, err := openStore(ctx, cfg, log, m)
	if err != nil {
		return nil, err
	}
	warnIfShared(log, cfg.DataDir, "data directory")
	box, err := openMasterKey(ctx, cfg, store, log, true)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	creds, err := loadCredentials(cfg, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	m.WatchStore(store.Counts)
	m.WatchReady(store.Ping)
	// Only a shared store's index can lag (bbolt's bound is 0).
	if s, ok := store.(interface {
		Staleness() (lag, bound time.Duration)
	}); ok {
		if _, bound := s.Staleness(); bound > 0 {
			m.WatchStaleness(s.Staleness)
		}
	}

	d := &Daemon{cfg: cfg, log: log, store: store, metrics: m, errc: make(chan error, 2)}
	auditLog, err := d.openAuditLog()
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	d.usage = usage.New(store, usage.Options{Now: cfg.now(), Logger: log})
	if d.tracing, err = tracing.Start(ctx, cfg.Tracing, buildinfo.Read().Version); err != nil {
		_ = store.Close()
		d.closeAuditLog()
		return nil, err
	}
	if err := d.serve(ctx, gl, hl, box, creds, rules, m, reg, auditLog); err != nil {
		_ = d.tracing.Shutdown(ctx)
		_ = store.Close()
		d.closeAuditLog()
		return nil, err
	}
	log.Info("tokenauthority serving",
		slog.String("grpc_addr", d.GRPCAddr.String()),
		slog.String("http_addr", d.HTTPAddr.String()),
		slog.String("data_dir", cfg.DataDir),
		slog.String("tls", cfg.tlsMode()),
		slog.Bool("tracing", d.tracing != nil),
		slog.Bool("reveal", cfg.Reveal),
		slog.Bool("ui", cfg.UI),
		slog.String("trusted_user_header", cfg.TrustedUserHeader))
	return d, nil
}

func (d *Daemon) serve(ctx context.Context, gl, hl net.Listener, box *seal.Ring, creds *credential.Set, rules *authz.Rules, m *metrics.Metrics, reg *prometheus.Registry, auditLog io.Writer) error {
	srv := server.New(server.Config{
		Store:                d.store,
		Box:                  box,
		Credentials:          creds,
		Reveal:               d.cfg.Reveal,
		MaxTokenLifetime:     d.cfg.MaxTokenLifetime,
		RefreshGrace:         d.cfg.RefreshGrace,
		RefreshReuseInterval: d.cfg.RefreshReuseInterval,
		SeedTTL:              d.cfg.SeedTTL,
		Transport:            d.cfg.GRPC,
		ClientLimiter:        ratelimit.New(ratelimit.Config{Rate: d.cfg.RateLimit, Burst: d.cfg.RateBurst}),
		RefreshLimiter:       ratelimit.New(ratelimit.Config{Rate: refreshRate, Burst: refreshBurst}),
		GatewayLimiter:       ratelimit.New(ratelimit.Config{Rate: d.cfg.AuthzRateLimit, Burst: d.cfg.AuthzRateBurst}),
		Codec:                authz.EnvoyCodec(nil),
		// Envoy usually calls Check without a credential.
		GatewayCredential: d.cfg.AuthzRequireCredential,
		Logger:            d.log,
		Metrics:           m,
		Usage:             d.usage,
		AuditLog:          auditLog,
		Now:               d.cfg.Now,
		Tracing:           d.tracing,
	})

	d.srv = srv
	tlsCfg, err := d.cfg.serverTLS()
	if err != nil {
		return err
	}
	opts := append(srv.ServerOptions(), server.TransportOptions()...)
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
		m.WatchCertificate(certificateExpiry(tlsCfg))
	}
	d.grpc = grpc.NewServer(opts...)
	srv.Register(d.grpc)
	// The gateway decides with the server's own decision path; Envoy's
	// Check runs behind the server's authorization table and limits.
	gw := authz.New(srv.Access(), rules, m)
	authz.RegisterEnvoy(d.grpc, server.Guarded(srv, server.EnvoyCheckMethod, gw.TracedCheck(d.tracing)))
	d.health = health.NewServer()
	healthpb.RegisterHealthServer(d.grpc, d.health)
	reflection.Register(d.grpc)

	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.stop = stop
	trusted, err := d.cfg.trustedUser()
	if err != nil {
		stop()
		return err
	}
	// Forward auth answers any method: nginx's subrequest is a GET, but
	// Traefik and Caddy may forward the original method.
	routes := map[string]http.Handler{"/v1/authz": srv.LimitGateway(gw.ForwardAuth(d.log))}
	if d.cfg.UI {
		maps.Copy(routes, ui.Routes())
	}
	handler, err := rest.New(bg, rest.Config{
		Logger:      d.log,
		Metrics:     m,
		Ready:       d.store.Ping,
		Gatherer:    reg,
		Routes:      routes,
		TrustedUser: trusted,
		Audit:       srv.Audit(),
		Backup:      srv.Backup,
		Admit:       srv.AdmitOpen,
	}, srv.Tokens(), srv.Workspaces(), srv.Self())
	if err != nil {
		stop()
		return fmt.Errorf("build REST gateway: %w", err)
	}
	d.http = &http.Server{
		Handler:           d.tracing.Handler(handler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsCfg,
	}

	d.GRPCAddr, d.HTTPAddr = gl.Addr(), hl.Addr()
	if tlsCfg == nil {
		warnPlaintext(d.log, gl.Addr(), hl.Addr())
	}

	for _, name := range []string{"", pb.TokenService_ServiceDesc.ServiceName, pb.WorkspaceService_ServiceDesc.ServiceName, pb.SelfService_ServiceDesc.ServiceName, pb.AdminService_ServiceDesc.ServiceName, pb.AuditService_ServiceDesc.ServiceName, authv3.Authorization_ServiceDesc.ServiceName} {
		d.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	d.wg.Add(3)
	go func() {
		defer d.wg.Done()
		if err := d.grpc.Serve(gl); err != nil {
			d.errc <- fmt.Errorf("serve gRPC: %w", err)
		}
	}()
	go func() {
		defer d.wg.Done()
		serve := d.http.Serve
		if tlsCfg != nil {
			// The certificate comes from TLSConfig.GetCertificate.
			serve = func(l net.Listener) error { return d.http.ServeTLS(l, "", "") }
		}
		if err := serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.errc <- fmt.Errorf("serve HTTP: %w", err)
		}
	}()
	go func() {
		defer d.wg.Done()
		d.purgeSeeds(bg)
	}()
	d.startBackground(bg)
	d.startAuditVerify(bg, srv.VerifyAuditChain)
	return nil
}

// purgeSeeds deletes expired seeds until ctx ends. On the same tick it
// finishes the split changes another process stopped in the middle of
// (storage.Backend.FinishStale): on a shared store that process may never
// open it again, and until then a removed member cannot be added back.
func (d *Daemon) purgeSeeds(ctx context.Context) {
	t := time.NewTicker(seedPurgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := d.store.PurgeExpiredSeeds(ctx, now); err != nil && ctx.Err() == nil {
				d.metrics.ObserveStoreError(metrics.StoreOpPurgeSeeds)
				d.log.Warn("purge expired seeds", slog.String("error", err.Error()))
			} else if n > 0 {
				d.log.Info("purged expired seeds", slog.Int("count", n))
			}
			if n, err := d.store.FinishStale(ctx); err != nil && ctx.Err() == nil {
				d.metrics.ObserveStoreError(metrics.StoreOpFinishChanges)
				d.log.Warn("finish changes another process stopped in the middle of", slog.String("error", err.Error()))
			} else if n > 0 {
				d.log.Info("finished changes another process stopped in the middle of", slog.Int("count", n))
			}
		}
	}
}

// WaitLeakReports blocks until every leak report answered so far has been
// processed (its tokens revoked, or found to match nothing), or ctx ends:
// the answer of ReportLeakedTokens comes first.
func (d *Daemon) WaitLeakReports(ctx context.Context) error { return d.srv.WaitLeakReports(ctx) }

// Wait blocks until a listener fails, returning its error, or until the
// daemon is shut down, returning nil.
func (d *Daemon) Wait(ctx context.Context) error {
	select {
	case err := <-d.errc:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Shutdown stops accepting requests, lets in-flight ones finish until ctx
// ends, and closes the store. It is safe to call more than once.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.health.Shutdown()
		var errs []error
		if err := d.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down HTTP: %w", err))
		}
		stopped := make(chan struct{})
		go func() { d.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			d.grpc.Stop()
			<-stopped
		}
		// Leak reports already answered are revoked before the store
		// closes, as far as the shutdown deadline allows.
		if err := d.srv.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("process answered leak reports: %w", err))
		}
		d.stop()
		d.wg.Wait()
		if err := d.flushUsage(ctx); err != nil {
			errs = append(errs, err)
		}
		d.flushTraces(ctx)
		if err := d.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		d.closeAuditLog()
		d.closeErr = errors.Join(errs...)
		d.log.Info("tokenauthority stopped")
	})
	return d.closeErr
}

// openAuditLog opens the --audit-log destination; nil when there is none.
func (d *Daemon) openAuditLog() (io.Writer, error) {
	switch d.cfg.AuditLog {
	case "":
		return nil, nil
	case "-":
		return os.Stdout, nil
	}
	f, err := os.OpenFile(d.cfg.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	d.auditLog = f
	return f, nil
}

func (d *Daemon) closeAuditLog() {
	if d.auditLog == nil {
		return
	}
	if err := d.auditLog.Close(); err != nil {
		d.log.Warn("close audit log", slog.String("error", err.Error()))
	}
}

// warnIfShared warns when path grants group or others any access: the
// store holds every token's hash and sealed secret, and the directory holds
// the store, the master key and the bootstrap credential.
func warnIfShared(log *slog.Logger, path, what string) {
	info, err := os.Stat(path)
	if err != nil {
		return
	}
	want := "600"
	if info.IsDir() {
		want = "700"
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		log.Warn(fmt.Sprintf("the %s is open to other users; restrict it to the owner (chmod %s %s)", what, want, path),
			slog.String("path", path), slog.String("mode", fmt.Sprintf("%#o", perm)))
	}
}

func loadCredentials(cfg Config, log *slog.Logger) (*credential.Set, error) {
	if cfg.CredentialsFile != "" {
		set, err := credential.Load(cfg.CredentialsFile)
		if err != nil {
			return nil, err
		}
		log.Info("service credentials loaded", slog.String("file", cfg.CredentialsFile), slog.Int("count", set.Len()))
		return set, nil
	}
	set, path, created, err := credential.Bootstrap(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("bootstrap credential: %w", err)
	}
	if created {
		log.Info("wrote a bootstrap admin credential; use it as \"authorization: Bearer $(cat FILE)\"", slog.String("file", path))
	} else {
		log.Info("using the bootstrap admin credential", slog.String("file", path))
	}
	return set, nil
}

// openStore opens the store the configuration names: the bbolt file in the
// data directory, or the etcd cluster shared with other replicas.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, m *metrics.Metrics) (storage.Backend, error) {
	if cfg.Store == "etcd" {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s, err := etcdstore.Open(ctx, cfg.Etcd.Config, etcdstore.Options{
			Prefix: cfg.Etcd.Prefix, MaxStaleness: cfg.Etcd.MaxStaleness, WriteTimeout: cfg.Etcd.WriteTimeout, Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("open etcd store at %v%s: %w", cfg.Etcd.Endpoints, cfg.Etcd.Prefix, err)
		}
		log.Info("serving from etcd", slog.Any("endpoints", cfg.Etcd.Endpoints), slog.String("prefix", cfg.Etcd.Prefix),
			slog.Duration("max_staleness", cfg.Etcd.MaxStaleness))
		return s, nil
	}
	store, err := bbolt.Open(cfg.DBPath(), bbolt.Options{OnCommit: m.ObserveCommit})
	if errors.Is(err, storage.ErrLocked) {
		return nil, fmt.Errorf("another tokenauthority is using %s", cfg.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	warnIfShared(log, cfg.DBPath(), "store file")
	return store, nil
}
