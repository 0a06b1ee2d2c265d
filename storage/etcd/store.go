package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/etcdclient"
	"tokenauthority/storage"
	"tokenauthority/storage/core"
)

// Defaults of Options.
const (
	DefaultPrefix       = "/tokenauthority/"
	DefaultMaxStaleness = 2 * time.Second
	DefaultMissReads    = 200
)

// Options tune OpenClient and Open. The zero value is ready to use.
type Options struct {
	// Prefix starts every key (see CheckPrefix); "" means DefaultPrefix.
	Prefix string
	// MaxStaleness bounds how long the index is trusted without word from etcd.
	MaxStaleness time.Duration
	// WriteTimeout bounds one commit, retries included (0: 5s); without a
	// quorum, writes fail with storage.ErrUnavailable after it.
	WriteTimeout time.Duration
	// MissReads bounds the index misses that read etcd, per second.
	MissReads float64
	// Logger, Watch and Limits go to the engine (EngineOptions); Open sets
	// a nil Watch to the client's configuration.
	Logger *slog.Logger
	Watch  *clientv3.Config
	Limits storage.EngineLimits
}

// Store is the domain core over Engine; many replicas may share one prefix.
type Store struct {
	*core.Store
	owned *clientv3.Client // made by Open, closed by Close
}

// Open connects to the cluster and opens the store; Close closes the client.
func Open(ctx context.Context, cfg etcdclient.Config, opts Options) (*Store, error) {
	cli, cc, err := etcdclient.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if opts.Watch == nil {
		opts.Watch = &cc
	}
	s, err := OpenClient(ctx, cli, opts)
	if err != nil {
		_ = cli.Close()
		return nil, err
	}
	s.owned = cli
	return s, nil
}

// OpenClient opens the store on a client that stays the caller's: it
// migrates a prefix of the first layout (migrate.go), loads the validation
// index and follows the prefix. A migration is bounded per transaction by
// WriteTimeout, not by ctx, and the rest of the open gets ctx's time again.
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
	if err := CheckPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if err := checkAccess(ctx, cli, opts.Prefix); err != nil {
		return nil, err
	}
	e := NewEngine(cli, EngineOptions{Prefix: opts.Prefix, Limits: opts.Limits, Watch: opts.Watch, Progress: min(opts.MaxStaleness/4, 500*time.Millisecond), Logger: opts.Logger})
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	began := time.Now()
	moved, err := migrateLayout1(ctx, e, opts.WriteTimeout, log)
	if err != nil {
		return nil, fmt.Errorf("open etcd store at %s: %w", opts.Prefix, err)
	}
	if moved > 0 {
		took := time.Since(began)
		log.Info("migrated the etcd prefix from the first layout", "prefix", opts.Prefix, "keys", moved, "took", took)
		if d, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), d.Add(took))
			defer cancel()
		}
	}
	s, err := core.Open(ctx, e, core.Options{MaxStaleness: opts.MaxStaleness, MissReads: opts.MissReads, WriteTimeout: opts.WriteTimeout, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("open etcd store at %s: %w", opts.Prefix, err)
	}
	return &Store{Store: s}, nil
}

// CheckPrefix refuses a prefix that is not a path starting and ending in
// "/": without the last "/", one deployment's keys would be another's.
func CheckPrefix(prefix string) error {
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("--etcd-prefix %q: want a path starting and ending in /", prefix)
	}
	return nil
}

// checkAccess reads a key under prefix, first, to name a missing role.
func checkAccess(ctx context.Context, cli *clientv3.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), 10*time.Second)
	defer cancel()
	_, err := cli.Get(ctx, prefix+l1Schema, clientv3.WithCountOnly())
	if errors.Is(err, rpctypes.ErrPermissionDenied) {
		return fmt.Errorf("etcd user %q: permission denied on keys under %s: its role needs readwrite on that prefix (etcdctl role grant-permission --prefix=true ROLE readwrite %s)",
			cli.Username, prefix, prefix)
	}
	if err != nil {
		return fmt.Errorf("open etcd store at %s: %w", prefix, unavailable(ctx, err))
	}
	return nil
}

// Close closes the store and, when Open made the client, the client.
func (s *Store) Close() error {
	err := s.Store.Close()
	if s.owned != nil {
		if cerr := s.owned.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

var _ storage.Backend = (*Store)(nil)
