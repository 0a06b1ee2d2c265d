package bbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"tokenauthority/storage"
)

// The engine's buckets.
var (
	engineData   = []byte("kv")
	engineMeta   = []byte("kvmeta")
	metaRevision = []byte("revision")  // last committed revision
	oldJournal   = []byte("kvjournal") // the feed of earlier builds; deleted
)

// EngineOptions tune OpenEngine. The zero value is the default.
type EngineOptions struct {
	Timeout time.Duration // for the file lock; 0 means 1s
	// JournalLength is how many of the last commits Changes keeps in memory
	// (0: 10,000); a feed further behind gets ErrCompacted.
	JournalLength int64
	// JournalBytes bounds their bytes (0: 16 MiB), bar the newest commit.
	JournalBytes int64
	// Limits overrides DefaultEngineLimits field by field (0: default).
	Limits storage.EngineLimits
	// NoSync skips every fsync (throwaway files only: see Options.NoSync).
	NoSync bool
}

// DefaultEngineLimits are generous: bbolt has no hard per-transaction cap,
// but one transaction is held in memory until it commits.
var DefaultEngineLimits = storage.EngineLimits{MaxOps: 100_000, MaxBytes: 64 << 20}

// Engine is storage.Engine over one bbolt file: every Update is one bbolt
// transaction, fsynced before it returns, that also stores its revision.
type Engine struct {
	db           *bolt.DB
	limits       storage.EngineLimits
	journal      int64
	journalBytes int64

	// mu guards closed against Close: every use of db holds it shared.
	mu     sync.RWMutex
	closed bool

	// wake is closed and replaced after each commit that wrote; tail holds
	// the last commits in revision order, floor the last revision dropped.
	wakeMu     sync.Mutex
	wake       chan struct{}
	tail       []storage.ChangeBatch
	tailBytes  int64
	floor      int64
	tailClosed bool
}

var _ storage.Engine = (*Engine)(nil)

// OpenEngine opens or creates the engine's file at path (mode 0600); another
// process's file fails with ErrLocked after opts.Timeout. A schema-1 or 2
// file is migrated first (migrate.go); a newer one without bucket kv fails
// with ErrSchemaTooNew.
func OpenEngine(path string, opts EngineOptions) (*Engine, error) {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: gave up after %v: %w", path, timeout, storage.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(prepareEngineFile); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	e := &Engine{db: db, limits: opts.Limits.Or(DefaultEngineLimits), journal: opts.JournalLength, wake: make(chan struct{})}
	e.journalBytes = opts.JournalBytes
	if e.journalBytes <= 0 {
		e.journalBytes = 16 << 20
	}
	if e.journal <= 0 {
		e.journal = 10_000
	}
	e.floor, err = e.Revision(context.Background())
	return e, err
}

// Limits reports the engine's per-transaction limits.
func (e *Engine) Limits() storage.EngineLimits { return e.limits }

// Close closes the file. Feeds end with ErrClosed at their next read.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.wakeMu.Lock()
	e.tailClosed = true
	close(e.wake)
	e.wake = make(chan struct{})
	e.wakeMu.Unlock()
	return e.db.Close()
}

// use runs f with the file open (Close waits), or fails with ErrClosed.
func (e *Engine) use(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return storage.ErrClosed
	}
	return f()
}

// bigScan is the keys a View walks (loading the index, verifying the audit
// log) past which it hands the mapped pages back: the kernel maps far more
// of the file than a scan reads, none needed again soon.
const bigScan = 100_000

// View runs fn in a bbolt read transaction.
func (e *Engine) View(ctx context.Context, fn func(storage.ReadTx) error) error {
	return e.use(ctx, func() error {
		return e.db.View(func(btx *bolt.Tx) error {
			tx := &engineTx{b: btx.Bucket(engineData)}
			err := fn(tx)
			if tx.walked > bigScan {
				releaseMapped(e.db, e.db.Path())
			}
			return err
		})
	})
}

// Update runs fn in one bbolt read-write transaction: once here, but the
// contract lets an engine rerun it.
func (e *Engine) Update(ctx context.Context, fn func(storage.Tx) error) (int64, error) {
	var rev int64
	var changes []storage.Change
	err := e.use(ctx, func() error {
		return e.db.Update(func(btx *bolt.Tx) error {
			rev = 0
			tx := &engineTx{b: btx.Bucket(engineData), w: storage.NewWriteSet(e.limits)}
			if err := fn(tx); err != nil {
				return err
			}
			if err := tx.w.Err(); err != nil {
				return err
			}
			if changes = tx.w.Changes(); len(changes) == 0 {
				return nil
			}
			var err error
			rev, err = nextRevision(btx)
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	if rev > 0 {
		e.committed(storage.ChangeBatch{Revision: rev, Changes: changes})
	}
	return rev, nil
}

// Revision returns the last committed revision.
func (e *Engine) Revision(ctx context.Context) (int64, error) {
	var rev int64
	err := e.use(ctx, func() error {
		return e.db.View(func(btx *bolt.Tx) error {
			rev = metaInt(btx, metaRevision)
			return nil
		})
	})
	return rev, err
}

// engineTx is both transaction kinds; w is nil in View.
type engineTx struct {
	b      *bolt.Bucket
	w      *storage.WriteSet
	walked int // keys its ranges visited
}

func (t *engineTx) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, fmt.Errorf("empty key: %w", storage.ErrInvalid)
	}
	v := t.b.Get(key)
	if v == nil {
		return nil, storage.ErrNotFound
	}
	return v, nil
}

func (t *engineTx) Range(start, end []byte, limit int, fn func(key, value []byte) error) error {
	c := t.b.Cursor()
	n := 0
	defer func() { t.walked += n }()
	for k, v := c.Seek(start); k != nil && (end == nil || bytes.Compare(k, end) < 0); k, v = c.Next() {
		if limit > 0 && n == limit {
			return nil
		}
		n++
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (t *engineTx) RangeReverse(start, end []byte, limit int, fn func(key, value []byte) error) error {
	c := t.b.Cursor()
	var k, v []byte
	if end == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for n := 0; k != nil && bytes.Compare(k, start) >= 0; k, v = c.Prev() {
		if limit > 0 && n == limit {
			return nil
		}
		n++
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (t *engineTx) Put(key, value []byte) error {
	// bbolt keeps the slices until commit: hand it the write set's copies.
	ch, err := t.w.Note(key, value, false)
	if err != nil {
		return err
	}
	return t.b.Put(ch.Key, ch.Value)
}

func (t *engineTx) Delete(key []byte) error {
	if _, written := t.w.Lookup(key); !written && t.w != nil && len(key) > 0 && t.b.Get(key) == nil {
		return nil // absent before and not written here: no change
	}
	if _, err := t.w.Note(key, nil, true); err != nil {
		return err
	}
	return t.b.Delete(key)
}
