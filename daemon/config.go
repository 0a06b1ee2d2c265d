package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tokenauthority/lifecycle"
	"tokenauthority/server"
	"tokenauthority/server/rest"
	etcdstore "tokenauthority/storage/etcd"
	"tokenauthority/tracing"
)

// EnvPrefix starts the environment variable of every flag: --data-dir is
// also TOKENAUTHORITY_DATA_DIR.
const EnvPrefix = "TOKENAUTHORITY_"

// Config is everything the daemon can be told. The zero value is not
// usable; start from Defaults or ParseConfig.
type Config struct {
	DataDir          string
	GRPCAddr         string
	HTTPAddr         string
	MasterKey        string // base64 key; overrides MasterKeyFile
	MasterKeyFile    string // default <data-dir>/master.key
	Reveal           bool
	CredentialsFile  string
	TLSCert          string // PEM certificate chain of both listeners
	TLSKey           string // PEM private key, mode 0600
	TLSClientCA      string // PEM CAs whose client certificates are required
	MaxTokenLifetime time.Duration
	RefreshGrace     time.Duration
	// RefreshReuseInterval: a repeat SDK refresh of one token inside it
	// gets the same new token; 0 disables.
	RefreshReuseInterval time.Duration
	SeedTTL              time.Duration
	Retention            time.Duration // how long ended tokens stay listable; 0 keeps them
	ShutdownTimeout      time.Duration
	LogLevel             slog.Level
	LogFormat            string // "text" or "json"
	// UI serves the Workspace Tokens page at /ui/ and /create_token.
	UI bool
	// TrustedUserHeader, when set, turns on member mode for requests from
	// TrustedProxies (comma-separated CIDRs or addresses).
	// TrustedProxies must be given with TrustedUserHeader: no default.
	TrustedUserHeader string
	TrustedProxies    string
	// AllowedOrigins (comma-separated web origins) may, beside the hub's
	// own, send state-changing requests for a signed-in member.
	AllowedOrigins string
	// AuditLog, when set, also writes every audit event as a JSON line to
	// this file (appended to, created 0600), or to stdout when "-".
	AuditLog string
	// AuditRetention is how long audit events are kept before a background
	// sweep removes them (the chain stays verifiable from a checkpoint); 0
	// keeps them all.
	AuditRetention time.Duration
	// Version asks for the version to be printed instead of serving.
	Version bool
	// Now is the clock of the server, the last-used recorder and the
	// retention sweep; nil means time.Now. Not a flag: tests inject it.
	Now func() time.Time
	// RateLimit is the requests per second each client address may make to
	// the endpoints that need no service credential; 0 disables the limit.
	RateLimit float64
	RateBurst int
	// AuthzRateLimit and AuthzRateBurst limit per client address the
	// gateway decisions (Envoy's Check when open, /v1/authz); 0 disables.
	AuthzRateLimit float64
	AuthzRateBurst int
	// GRPC bounds what one client can hold on the gRPC port.
	GRPC server.TransportLimits

	// masterKeyOnCommandLine is set by ParseConfig when the key came from
	// the --master-key flag, which other users can read in ps.
	masterKeyOnCommandLine bool
	// AuthzRules is a rule file mapping gateway request paths to zoos and
	// operations; empty means the default rules.
	AuthzRules string
	// AuthzRequireCredential makes Envoy's ext_authz Check need a
	// validator service credential.
	AuthzRequireCredential bool

	// Store is "bbolt" (one file in DataDir, the default) or "etcd" (a
	// cluster shared by many replicas, configured by Etcd).
	Store string
	Etcd  EtcdConfig

	// AuditVerifyInterval is how often the audit log's hash chain is
	// verified in the background (and once at start), for the metrics; 0
	// never.
	AuditVerifyInterval time.Duration

	// Tracing turns on OpenTelemetry tracing; ParseConfig reads it from
	// the standard OTEL_* variables (tracing.FromEnv), not from flags.
	Tracing tracing.Config
}

// Defaults returns the configuration of a server started with no arguments.
func Defaults() Config {
	return Config{
		DataDir:              "./data",
		GRPCAddr:             "127.0.0.1:50051",
		HTTPAddr:             "127.0.0.1:8080",
		Reveal:               true,
		RefreshGrace:         10 * time.Minute,
		RefreshReuseInterval: lifecycle.DefaultRefreshReuseInterval,
		SeedTTL:              10 * time.Minute,
		Retention:            30 * 24 * time.Hour,
		ShutdownTimeout:      10 * time.Second,
		AuditVerifyInterval:  time.Hour,
		RateLimit:            100,
		RateBurst:            200,
		AuthzRateLimit:       20000,
		AuthzRateBurst:       40000,
		GRPC:                 server.DefaultTransportLimits(),
		LogLevel:             slog.LevelInfo,
		LogFormat:            "text",
		UI:                   true,
		Store:                "bbolt",
		Etcd: EtcdConfig{
			Prefix:       etcdstore.DefaultPrefix,
			MaxStaleness: etcdstore.DefaultMaxStaleness,
		},
	}
}

// ParseConfig reads flags from args, with environment variables (looked up
// through getenv) for every flag not given on the command line. Flags win
// over the environment, the environment over the defaults.
func ParseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := Defaults()
	fs := flag.NewFlagSet("tokenauthority", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the store (tokenauthority.db), master.key and admin.credential")
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "address of the gRPC listener")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "address of the REST/HTTP listener")
	fs.StringVar(&cfg.MasterKey, "master-key", "", "AES-256 key (base64 of 32 bytes) that encrypts revealable secrets; overrides --master-key-file. Prefer the environment variable: a flag is visible in the process list")
	fs.StringVar(&cfg.MasterKeyFile, "master-key-file", "", "file holding the master key, created 0600 when missing (default <data-dir>/master.key)")
	fs.BoolVar(&cfg.Reveal, "reveal", cfg.Reveal, "keep an encrypted copy of each secret so RevealToken can return it; false keeps hashes only")
	fs.StringVar(&cfg.CredentialsFile, "credentials-file", "", "JSON file of service credentials (name, role, sha256); without it a bootstrap admin credential is written to <data-dir>/admin.credential")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) served by both listeners; re-read when the file changes")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert, mode 0600")
	fs.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "PEM CA certificates; when set, every client must present a certificate they signed (mutual TLS)")
	fs.DurationVar(&cfg.MaxTokenLifetime, "max-token-lifetime", 0, "longest lifetime a token may have, e.g. 2160h; 0 means unlimited (tokens may never expire)")
	fs.DurationVar(&cfg.RefreshGrace, "refresh-grace", cfg.RefreshGrace, "how long the old token keeps working after an SDK refresh (at most 168h)")
	fs.DurationVar(&cfg.RefreshReuseInterval, "refresh-reuse-interval", cfg.RefreshReuseInterval, "a repeat SDK refresh of one token within this long (a client retrying after a lost answer) gets the same new token instead of revoking the token's family as a reuse; 0 disables (at most --refresh-grace)")
	fs.DurationVar(&cfg.SeedTTL, "seed-ttl", cfg.SeedTTL, "how long the SDK can pick up a token created for a seed")
	fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "how long revoked and expired tokens stay listable (show_revoked) before a background sweep deletes them; 0 keeps them forever")
	fs.DurationVar(&cfg.AuditRetention, "audit-retention", cfg.AuditRetention, "how long audit events are kept before a background sweep removes them; VerifyAuditLog then checks the chain from the checkpoint of the last removed event; 0 keeps every event")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests get on SIGINT/SIGTERM")
	fs.BoolVar(&cfg.UI, "ui", cfg.UI, "serve the Workspace Tokens page at /ui/ and the SDK's /create_token on the HTTP port")
	fs.StringVar(&cfg.TrustedUserHeader, "trusted-user-header", "", "member mode: a request from --trusted-proxies carrying this header (e.g. X-Forwarded-User) acts as that workspace member, on their own tokens only")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies, "comma-separated CIDRs of the single sign-on proxies whose --trusted-user-header (and X-Forwarded-For) is believed; required with --trusted-user-header")
	fs.StringVar(&cfg.AllowedOrigins, "allowed-origins", "", "member mode: comma-separated web origins (https://hub.example.com) whose pages may change things for a signed-in member, beside the origin of the request's Host")
	fs.DurationVar(&cfg.AuditVerifyInterval, "audit-verify-interval", cfg.AuditVerifyInterval, "how often the audit log's hash chain is verified in the background (and once at start) for the tokenauthority_audit_chain_ok metric; each run reads the whole log; 0 never")
	fs.StringVar(&cfg.AuditLog, "audit-log", "", "also write every audit event as a JSON line to this file, or to stdout when \"-\" (the store keeps the record either way)")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", cfg.RateLimit, "requests per second per client address on the endpoints that need no service credential (SDK self-service); 0 disables")
	fs.IntVar(&cfg.RateBurst, "rate-burst", cfg.RateBurst, "requests a client address may make at once before --rate-limit applies")
	fs.Float64Var(&cfg.AuthzRateLimit, "authz-rate-limit", cfg.AuthzRateLimit, "gateway decisions per second per client address (Envoy's Check while it needs no credential, /v1/authz); a gateway sends all its users' requests from its own address; 0 disables")
	fs.IntVar(&cfg.AuthzRateBurst, "authz-rate-burst", cfg.AuthzRateBurst, "gateway decisions a client address may ask at once before --authz-rate-limit applies")
	fs.Func("grpc-max-concurrent-streams", fmt.Sprintf("calls one gRPC connection may have open at once (default %d)", cfg.GRPC.MaxConcurrentStreams), uint32Flag(&cfg.GRPC.MaxConcurrentStreams))
	fs.Func("grpc-max-header-bytes", fmt.Sprintf("largest metadata of a gRPC call, in bytes (default %d)", cfg.GRPC.MaxHeaderListBytes), uint32Flag(&cfg.GRPC.MaxHeaderListBytes))
	fs.DurationVar(&cfg.GRPC.ConnectionTimeout, "grpc-connection-timeout", cfg.GRPC.ConnectionTimeout, "how long a new gRPC connection may take to complete its handshake")
	fs.DurationVar(&cfg.GRPC.RequestReadTimeout, "grpc-request-read-timeout", cfg.GRPC.RequestReadTimeout, "how long a gRPC call may wait for its request message")
	fs.DurationVar(&cfg.GRPC.KeepaliveMinTime, "grpc-keepalive-min-time", cfg.GRPC.KeepaliveMinTime, "shortest interval between client keepalive pings; clients pinging more often are disconnected")
	fs.DurationVar(&cfg.GRPC.MaxConnectionIdle, "grpc-max-connection-idle", cfg.GRPC.MaxConnectionIdle, "close a gRPC connection with no call for this long")
	fs.StringVar(&cfg.AuthzRules, "authz-rules", "", "file of gateway path rules, one \"[METHOD] PATTERN OPERATION\" per line (default: /zoo/v1/public/models/{workspace}/{zoo}/... download, /zoo/v1/inference/{workspace}/{zoo}/... cloud_inference)")
	fs.BoolVar(&cfg.AuthzRequireCredential, "authz-require-credential", false, "make Envoy's ext_authz Check require a validator service credential (authorization: Bearer in the gRPC metadata Envoy sends); /v1/authz is unaffected")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "where state is kept: bbolt (one file in --data-dir, one process) or etcd (a cluster shared by many replicas, see --etcd-*)")
	fs.Func("etcd-endpoints", "comma-separated client URLs of the etcd members, e.g. https://10.0.0.1:2379,https://10.0.0.2:2379", func(v string) error {
		cfg.Etcd.Endpoints = splitList(v)
		return nil
	})
	fs.StringVar(&cfg.Etcd.Prefix, "etcd-prefix", cfg.Etcd.Prefix, "key prefix of this deployment in etcd; deployments sharing a cluster need different prefixes")
	fs.StringVar(&cfg.Etcd.CA, "etcd-ca", "", "PEM CA certificates that verify the etcd members")
	fs.StringVar(&cfg.Etcd.Cert, "etcd-cert", "", "PEM client certificate presented to etcd (mutual TLS)")
	fs.StringVar(&cfg.Etcd.Key, "etcd-key", "", "PEM private key of --etcd-cert")
	fs.StringVar(&cfg.Etcd.Username, "etcd-username", "", "etcd user; needs --etcd-password-file")
	fs.StringVar(&cfg.Etcd.PasswordFile, "etcd-password-file", "", "file holding the password of --etcd-username")
	fs.DurationVar(&cfg.Etcd.MaxStaleness, "max-staleness", cfg.Etcd.MaxStaleness, "with --store etcd: how far a replica's in-memory validation index may lag etcd before validation reads through to etcd and /readyz reports the replica degraded")
	fs.TextVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	fs.BoolVar(&cfg.Version, "version", false, "print the version, commit and date of this build and exit")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "version" {
			f.Usage += " ($" + envName(f.Name) + ")"
		}
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: tokenauthority [flags]
       tokenauthority keys <list|rotate|reseal|retire> [flags]

Serves the token authority over gRPC and REST; "keys" rotates the master
key (tokenauthority keys help). Every flag can also be set
by the environment variable named after it in parentheses
(%sDATA_DIR for --data-dir); a flag given on the command line
wins over the environment. OpenTelemetry tracing is configured by the
standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_TRACES_SAMPLER, ...) and is off when none names a collector.

Flags:
`, EnvPrefix)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	cfg.masterKeyOnCommandLine = given["master-key"]
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "version" {
			return
		}
		env := envName(f.Name)
		if v := getenv(env); v != "" && !given[f.Name] {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	tr, err := tracing.FromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	cfg.Tracing = tr
	return cfg, cfg.check()
}

// envName is the environment variable of a flag: TOKENAUTHORITY_DATA_DIR
// for data-dir.
func envName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c Config) check() error {
	switch {
	case c.DataDir == "":
		return errors.New("--data-dir must not be empty")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case c.TLSClientCA != "" && c.TLSCert == "":
		return errors.New("--tls-client-ca needs --tls-cert and --tls-key")
	case c.MaxTokenLifetime < 0, c.RefreshGrace < 0, c.RefreshReuseInterval < 0, c.SeedTTL < 0, c.ShutdownTimeout < 0, c.Retention < 0, c.AuditRetention < 0, c.AuditVerifyInterval < 0:
		return errors.New("durations must not be negative")
	case c.RefreshGrace > lifecycle.MaxGrace:
		return fmt.Errorf("--refresh-grace %s: at most %s, as for any roll", c.RefreshGrace, lifecycle.MaxGrace)
	case c.RefreshReuseInterval > c.RefreshGrace:
		return fmt.Errorf("--refresh-reuse-interval %s: at most --refresh-grace (%s): a repeat refresh presents the old token, which stops when its grace ends", c.RefreshReuseInterval, c.RefreshGrace)
	case c.RateLimit < 0 || math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0):
		return fmt.Errorf("--rate-limit %v: want a number of requests per second, 0 to disable", c.RateLimit)
	case c.RateBurst < 1:
		return fmt.Errorf("--rate-burst %d: want at least 1", c.RateBurst)
	case c.AuthzRateLimit < 0 || math.IsNaN(c.AuthzRateLimit) || math.IsInf(c.AuthzRateLimit, 0):
		return fmt.Errorf("--authz-rate-limit %v: want a number of decisions per second, 0 to disable", c.AuthzRateLimit)
	case c.AuthzRateBurst < 1:
		return fmt.Errorf("--authz-rate-burst %d: want at least 1", c.AuthzRateBurst)
	case c.GRPC.ConnectionTimeout <= 0, c.GRPC.RequestReadTimeout <= 0, c.GRPC.KeepaliveMinTime <= 0, c.GRPC.MaxConnectionIdle <= 0:
		return errors.New("--grpc-* durations must be positive")
	case c.GRPC.MaxConcurrentStreams == 0, c.GRPC.MaxHeaderListBytes < 1024:
		return errors.New("--grpc-max-concurrent-streams must be positive and --grpc-max-header-bytes at least 1024")
	}
	if _, err := c.trustedUser(); err != nil {
		return err
	}
	switch c.Store {
	case "bbolt":
	case "etcd":
		if err := c.Etcd.Check(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--store %q: want bbolt or etcd", c.Store)
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// now returns the configured clock.
func (c Config) now() func() time.Time {
	if c.Now != nil {
		return c.Now
	}
	return time.Now
}

// trustedUser is the member mode configuration of the REST facade, nil when
// it is off.
func (c Config) trustedUser() (*rest.TrustedUser, error) {
	proxies, err := rest.ParseProxies(c.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies %q: %w", c.TrustedProxies, err)
	}
	origins, err := rest.ParseOrigins(c.AllowedOrigins)
	if err != nil {
		return nil, fmt.Errorf("--allowed-origins: %w", err)
	}
	if c.TrustedUserHeader == "" {
		return nil, nil
	}
	if len(proxies) == 0 {
		// A default (loopback) would let every local process act as any
		// member.
		return nil, fmt.Errorf("--trusted-user-header %s needs --trusted-proxies: the addresses of the single sign-on proxies whose header is believed (for example 127.0.0.1/32 for a proxy on this host)", c.TrustedUserHeader)
	}
	return &rest.TrustedUser{Header: c.TrustedUserHeader, Proxies: proxies, AllowedOrigins: origins}, nil
}

// uint32Flag parses a flag value into *p.
func uint32Flag(p *uint32) func(string) error {
	return func(s string) error {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return err
		}
		*p = uint32(n)
		return nil
	}
}

// DBPath is the store file inside the data directory.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "tokenauthority.db") }

func (c Config) keyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// NewLogger returns the logger the configuration asks for.
func (c Config) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
