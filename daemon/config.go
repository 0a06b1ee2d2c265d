package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"tokenauthority/server/rest"
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
	MaxTokenLifetime time.Duration
	RefreshGrace     time.Duration
	SeedTTL          time.Duration
	ShutdownTimeout  time.Duration
	LogLevel         slog.Level
	LogFormat        string // "text" or "json"
	// UI serves the Workspace Tokens page at /ui/ and /create_token.
	UI bool
	// TrustedUserHeader, when set, turns on member mode for requests from
	// TrustedProxies (comma-separated CIDRs or addresses).
	TrustedUserHeader string
	TrustedProxies    string
	// AuditLog, when set, also writes every audit event as a JSON line to
	// this file (appended to, created 0600), or to stdout when "-".
	AuditLog string
}

// Defaults returns the configuration of a server started with no arguments.
func Defaults() Config {
	return Config{
		DataDir:         "./data",
		GRPCAddr:        "127.0.0.1:50051",
		HTTPAddr:        "127.0.0.1:8080",
		Reveal:          true,
		RefreshGrace:    10 * time.Minute,
		SeedTTL:         10 * time.Minute,
		ShutdownTimeout: 10 * time.Second,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		UI:              true,
		TrustedProxies:  "127.0.0.0/8,::1/128",
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
	fs.StringVar(&cfg.MasterKey, "master-key", "", "AES-256 key (base64 of 32 bytes) that encrypts revealable secrets; overrides --master-key-file")
	fs.StringVar(&cfg.MasterKeyFile, "master-key-file", "", "file holding the master key, created 0600 when missing (default <data-dir>/master.key)")
	fs.BoolVar(&cfg.Reveal, "reveal", cfg.Reveal, "keep an encrypted copy of each secret so RevealToken can return it; false keeps hashes only")
	fs.StringVar(&cfg.CredentialsFile, "credentials-file", "", "JSON file of service credentials (name, role, sha256); without it a bootstrap admin credential is written to <data-dir>/admin.credential")
	fs.DurationVar(&cfg.MaxTokenLifetime, "max-token-lifetime", 0, "longest lifetime a token may have, e.g. 2160h; 0 means unlimited (tokens may never expire)")
	fs.DurationVar(&cfg.RefreshGrace, "refresh-grace", cfg.RefreshGrace, "how long a refreshed token keeps working")
	fs.DurationVar(&cfg.SeedTTL, "seed-ttl", cfg.SeedTTL, "how long the SDK can pick up a token created for a seed")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests get on SIGINT/SIGTERM")
	fs.BoolVar(&cfg.UI, "ui", cfg.UI, "serve the Workspace Tokens page at /ui/ and the SDK's /create_token on the HTTP port")
	fs.StringVar(&cfg.TrustedUserHeader, "trusted-user-header", "", "member mode: a request from --trusted-proxies carrying this header (e.g. X-Forwarded-User) acts as that workspace member, on their own tokens only")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies, "comma-separated CIDRs of the single sign-on proxies whose --trusted-user-header is believed")
	fs.StringVar(&cfg.AuditLog, "audit-log", "", "also write every audit event as a JSON line to this file, or to stdout when \"-\" (the store keeps the record either way)")
	fs.TextVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" && !given[f.Name] {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, cfg.check()
}

func (c Config) check() error {
	switch {
	case c.DataDir == "":
		return errors.New("--data-dir must not be empty")
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	case c.MaxTokenLifetime < 0, c.RefreshGrace < 0, c.SeedTTL < 0, c.ShutdownTimeout < 0:
		return errors.New("durations must not be negative")
	}
	if _, err := rest.ParseProxies(c.TrustedProxies); err != nil {
		return fmt.Errorf("--trusted-proxies %q: %w", c.TrustedProxies, err)
	}
	return nil
}

// trustedUser is the member mode configuration of the REST facade, nil when
// it is off.
func (c Config) trustedUser() (*rest.TrustedUser, error) {
	if c.TrustedUserHeader == "" {
		return nil, nil
	}
	proxies, err := rest.ParseProxies(c.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies %q: %w", c.TrustedProxies, err)
	}
	return &rest.TrustedUser{Header: c.TrustedUserHeader, Proxies: proxies}, nil
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
