package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"tokenauthority/storage"
)

// schemaVersion is this build's key layout (keys.go); storage/bbolt
// migrates a schema-2 file to it.
const schemaVersion = 3

// Options tune Open. The zero value suits an engine in this process.
type Options struct {
	// MaxStaleness bounds how long the validation index is trusted without
	// word from the feed; past it validation reads the engine and Ping
	// fails. 0: the feed is local (bbolt), the index never stale.
	MaxStaleness time.Duration
	// MissReads bounds the index misses per second that read the engine, so
	// a token made on another replica works before the feed brings it (0: none).
	MissReads float64
	// WriteTimeout bounds one group commit, retries included (0: no bound).
	WriteTimeout time.Duration
	// MaxBatch caps how many writes share one commit; 0 means 256.
	MaxBatch int
	// OnCommit is called on the commit path with each commit's write count:
	// keep it fast.
	OnCommit func(writes int)
	// Logger receives the feed's restarts and reloads; nil discards.
	Logger *slog.Logger
	// IDsPerEvent, when set (tests only), replaces storage.RevokedPerEvent.
	IDsPerEvent int
}

// Store is storage.Backend over a storage.Engine, safe for concurrent use;
// many Stores (replicas) may share an engine's data (etcd).
type Store struct {
	e      storage.Engine
	opts   Options
	log    *slog.Logger
	misses *rate.Limiter // read-through on index misses (nil: none)
	feed   feedState     // keeps the validation index current (index.go)
	// auditClock is the latest time key this store gave an audit event.
	auditClock atomic.Uint64

	// mu orders enqueueing against Close: senders hold it shared.
	mu       sync.RWMutex
	closed   atomic.Bool
	writes   chan *write
	stopped  chan struct{} // closed when commitLoop has ended
	cancel   context.CancelFunc
	followed chan struct{} // closed when follow has ended

	markersMu   sync.Mutex
	markersSeen map[string]bool // the markers FinishStale saw last time
}

// Open records the layout version in e (refusing a newer one), loads the
// validation index, follows e's change feed and finishes changes a stopped
// process left. Close closes e.
func Open(ctx context.Context, e storage.Engine, opts Options) (*Store, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.IDsPerEvent <= 0 {
		opts.IDsPerEvent = storage.RevokedPerEvent
	}
	s := &Store{
		e:        e,
		opts:     opts,
		log:      opts.Logger,
		feed:     feedState{moved: make(chan struct{})},
		writes:   make(chan *write, opts.MaxBatch),
		stopped:  make(chan struct{}),
		followed: make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.MissReads > 0 {
		s.misses = rate.NewLimiter(rate.Limit(opts.MissReads), int(max(opts.MissReads, 1)))
	}
	if err := initSchema(ctx, e); err != nil {
		return nil, err
	}
	rev, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(fctx, rev)
	go s.commitLoop()
	// Serve only once the index holds what was committed while it loaded.
	now, err := e.Revision(ctx)
	if err == nil {
		err = s.feed.wait(ctx, now, 0)
	}
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("follow the change feed: %w", err)
	}
	if err := s.finishCleanups(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// initSchema records the layout version in a new store and refuses another.
func initSchema(ctx context.Context, e storage.Engine) error {
	_, err := e.Update(ctx, func(tx storage.Tx) error {
		v, err := reader{tx}.get(keySchemaVersion)
		if err != nil {
			return err
		}
		if v == nil {
			return tx.Put(keySchemaVersion, []byte(strconv.Itoa(schemaVersion)))
		}
		got, err := strconv.Atoi(string(v))
		if err != nil || got < 1 {
			return fmt.Errorf("unknown schema version %q", v)
		}
		if got > schemaVersion {
			return fmt.Errorf("the store has schema version %d, this build supports up to %d: %w", got, schemaVersion, storage.ErrSchemaTooNew)
		}
		if got < schemaVersion {
			return fmt.Errorf("the store has schema version %d, which this build reads only through its migration: %w", got, storage.ErrInvalid)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	return nil
}

// Close waits for queued writes to be committed and answered, stops the
// feed and closes the engine. Any later call returns ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return storage.ErrClosed
	}
	s.closed.Store(true)
	close(s.writes)
	s.mu.Unlock()
	<-s.stopped
	s.cancel()
	<-s.followed
	return s.e.Close()
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return ctx.Err()
}

// view runs fn in a read transaction, bounded by WriteTimeout like a
// write: a read of a store without quorum fails rather than hangs.
func (s *Store) view(ctx context.Context, fn func(r reader) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	err := s.e.View(ctx, func(tx storage.ReadTx) error { return fn(reader{tx}) })
	if errors.Is(err, storage.ErrClosed) && s.closed.Load() {
		return storage.ErrClosed
	}
	return err
}

// viewed is view for fn with a result: its result, or zero with the error.
func viewed[T any](ctx context.Context, s *Store, fn func(r reader) (T, error)) (T, error) {
	return returning(func(f func(reader) error) error { return s.view(ctx, f) }, fn)
}

// returning runs fn through run (a view or an update) and returns the
// result of its last run, or zero with run's error.
func returning[T, X any](run func(func(X) error) error, fn func(X) (T, error)) (T, error) {
	var out T
	err := run(func(x X) (err error) {
		out, err = fn(x)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.WriteTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.WriteTimeout)
}

// kv is a key (without its kind) and value copied out of a transaction.
type kv struct{ k, v []byte }

// eachPage calls fn, outside any transaction, with the keys and values
// under prefix, ascending, read in transactions of at most limit keys.
func (s *Store) eachPage(ctx context.Context, prefix []byte, limit int, fn func(page []kv) error) error {
	for after := ""; ; {
		page, err := viewed(ctx, s, func(r reader) (page []kv, err error) {
			err = r.each(prefix, after, limit, func(k, v []byte) error {
				page = append(page, kv{bytes.Clone(k), bytes.Clone(v)})
				return nil
			})
			return page, err
		})
		if err != nil {
			return err
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(page) < limit {
			return nil
		}
		after = string(page[len(page)-1].k)
	}
}

// Ping fails unless the index is current within MaxStaleness and the
// engine answers a read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.opts.MaxStaleness > 0 {
		if lag := s.feed.lag(); lag > s.opts.MaxStaleness {
			return fmt.Errorf("validation index has not heard from the store for %v (bound %v); validation reads through: %w",
				lag.Round(time.Millisecond), s.opts.MaxStaleness, storage.ErrUnavailable)
		}
	}
	return s.view(ctx, func(r reader) error {
		_, err := r.get(keySchemaVersion)
		return err
	})
}

// Staleness reports the index's lag and MaxStaleness (0, 0 when local).
func (s *Store) Staleness() (lag, bound time.Duration) {
	if s.opts.MaxStaleness <= 0 {
		return 0, 0
	}
	return s.feed.lag(), s.opts.MaxStaleness
}

// IndexBytes is about how much memory the validation index's tokens take.
func (s *Store) IndexBytes() int64 { return s.index().Bytes() }

var _ storage.Backend = (*Store)(nil)
