package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/storage"
	"tokenauthority/storage/core"
)

// Options tune OpenClient. The zero value is ready to use.
type Options struct {
	// Prefix starts every key; "" means DefaultPrefix.
	Prefix string
	// MaxStaleness bounds how long the validation index is trusted
	// without word from etcd; 0 means DefaultMaxStaleness.
	MaxStaleness time.Duration
	// WriteTimeout bounds one commit, retries included; 0 means 5s. A
	// cluster without a quorum fails writes with storage.ErrUnavailable
	// after it.
	WriteTimeout time.Duration
	// Logger receives the feed's restarts; nil discards.
	Logger *slog.Logger
	// Watch, when set, is the client configuration the change feed uses:
	// one member at a time, moving to the next when the watch goes
	// silent, so a member that hangs (alive to TCP, dead to raft) cannot
	// hold the index. Nil watches through the store's client.
	Watch *clientv3.Config
	// MissReads bounds, per second, how many validations of a token (or
	// decisions on a zoo) the index does not know read etcd instead, so
	// one created through another replica works here at once; 0 means
	// DefaultMissReads.
	MissReads float64
	// Limits overrides DefaultEngineLimits field by field.
	Limits storage.EngineLimits
}

// DefaultMissReads is the default of Options.MissReads.
const DefaultMissReads = 200

// Store is the token authority's store on an etcd cluster: the domain
// core (storage/core) over Engine. Many Stores (one per replica) may
// share one prefix.
type Store struct {
	*core.Store
	cli       *clientv3.Client
	ownClient bool
}

// Open connects to the cluster described by cfg and opens the store on it.
// The client is closed by Close.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	cc, err := cfg.ClientConfig()
	if err != nil {
		return nil, err
	}
	if err := checkTLS(ctx, cc); err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, credentialError(cc.Username, err)
	}
	s, err := OpenClient(ctx, cli, Options{Prefix: cfg.Prefix, MaxStaleness: cfg.MaxStaleness, WriteTimeout: cfg.WriteTimeout, Logger: log, Watch: &cc})
	if err != nil {
		_ = cli.Close()
		return nil, err
	}
	s.ownClient = true
	return s, nil
}

// OpenClient opens the store on an existing client, which stays the
// caller's: it checks the layout, loads the validation index and follows
// the prefix's changes.
func OpenClient(ctx context.Context, cli *clientv3.Client, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.MaxStaleness <= 0 {
		opts.MaxStaleness = DefaultMaxStaleness
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	if opts.MissReads <= 0 {
		opts.MissReads = DefaultMissReads
	}
	if err := refuseFirstLayout(ctx, cli, opts.Prefix); err != nil {
		return nil, err
	}
	e := NewEngine(cli, EngineOptions{Prefix: opts.Prefix, Limits: opts.Limits, Watch: opts.Watch, Progress: min(opts.MaxStaleness/4, 500*time.Millisecond), Logger: opts.Logger})
	s, err := core.Open(ctx, e, core.Options{
		MaxStaleness: opts.MaxStaleness,
		MissReads:    opts.MissReads,
		WriteTimeout: opts.WriteTimeout,
		Logger:       opts.Logger,
	})
	if errors.Is(err, rpctypes.ErrPermissionDenied) {
		return nil, fmt.Errorf("etcd user %q: permission denied on keys under %s: its role needs readwrite on that prefix (etcdctl role grant-permission --prefix=true ROLE readwrite %s)",
			cli.Username, opts.Prefix, opts.Prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("open etcd store at %s: %w", opts.Prefix, err)
	}
	return &Store{Store: s, cli: cli}, nil
}

// refuseFirstLayout refuses a prefix holding the first etcd layout (its
// version key sits right under the prefix), which this build does not
// read: starting on it would look like an empty store.
func refuseFirstLayout(ctx context.Context, cli *clientv3.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix+"schema_version", clientv3.WithCountOnly())
	if errors.Is(err, rpctypes.ErrPermissionDenied) {
		return fmt.Errorf("etcd user %q: permission denied on keys under %s: its role needs readwrite on that prefix (etcdctl role grant-permission --prefix=true ROLE readwrite %s)",
			cli.Username, prefix, prefix)
	}
	if err != nil {
		return fmt.Errorf("open etcd store at %s: %w", prefix, unavailable(ctx, err))
	}
	if resp.Count > 0 {
		return fmt.Errorf("etcd store at %s has the first key layout (schema version 1), which this build does not read; serve it with the release that wrote it, or start this one on a new --etcd-prefix: %w", prefix, storage.ErrInvalid)
	}
	return nil
}

// Close closes the store and, when Open made the client, the client.
func (s *Store) Close() error {
	err := s.Store.Close()
	if s.ownClient {
		if cerr := s.cli.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

var _ storage.Backend = (*Store)(nil)
