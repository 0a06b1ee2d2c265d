package bbolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"tokenauthority/storage"
	"tokenauthority/validindex"
)

// schemaVersion is the layout this build reads and writes (see keys.go).
const schemaVersion uint64 = 2

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Timeout for acquiring the file lock; 0 means 1s. A second process on
	// the same file fails with an error wrapping ErrLocked.
	Timeout time.Duration
	// MaxBatch caps how many writes share one commit; 0 means 256.
	MaxBatch int
	// OnCommit, when set, is called after every successful commit with the
	// number of writes it carried (metrics use it for the batch-size
	// histogram). It runs on the commit path, so it must be fast.
	OnCommit func(writes int)
	// NoSync skips the fsync of every commit. Only for filling a throwaway
	// file in bulk (the load harness does): a crash or power loss then
	// loses writes that were acknowledged, and may corrupt the file.
	NoSync bool
}

// Store is the bbolt-backed store of workspaces, members, zoos, tokens and
// seeds. It is safe for concurrent use. Every write goes through one
// committer goroutine that groups concurrent writes into one fsynced commit;
// reads run in their own read transactions and never wait for writes.
type Store struct {
	db       *bolt.DB
	maxBatch int
	onCommit func(int)
	// idsPerEvent, when set (by tests only), replaces
	// storage.RevokedPerEvent.
	idsPerEvent int

	// mu orders enqueueing against Close: senders hold it shared, Close
	// holds it exclusively to close writes.
	mu     sync.RWMutex
	closed atomic.Bool
	writes chan *write
	// stopped is closed when the committer has answered its last write.
	stopped chan struct{}

	// index answers validation (LookupTokenWithPolicy) without a read
	// transaction. commit applies every commit's changes to it before
	// answering the writers.
	index *validindex.Index
	// j is the journal of the transaction being committed; only the
	// committer touches it.
	j *journal
}

// Open opens or creates the database file at path (mode 0600), creates the
// buckets and records the schema version. A file written by a newer schema is
// refused with an error wrapping ErrSchemaTooNew.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 256
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: gave up after %v: %w", path, timeout, storage.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(initSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	index, err := loadIndex(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	releaseMapped(db, path)
	s := &Store{
		index:    index,
		db:       db,
		maxBatch: maxBatch,
		onCommit: opts.OnCommit,
		writes:   make(chan *write, maxBatch),
		stopped:  make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// initSchema checks the version before creating anything, so a newer file is
// left untouched.
func initSchema(tx *bolt.Tx) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keySchemaVersion); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("schema version has %d bytes, want 8", len(v))
			}
			got := binary.BigEndian.Uint64(v)
			if got > schemaVersion {
				return fmt.Errorf("file has schema version %d, this build supports up to %d: %w",
					got, schemaVersion, storage.ErrSchemaTooNew)
			}
			if got < 1 {
				return fmt.Errorf("file has unknown schema version %d", got)
			}
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	// Version 2 added the record counts: a new file and a version 1 file
	// get them counted once, here.
	if tx.Bucket(bucketMeta).Get(keyTokenCount) == nil {
		if err := setCounts(tx); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, schemaVersion))
}

// Close waits for queued writes to be committed and answered, then closes
// the file. Later calls, and any method called after it, return ErrClosed.
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
	return s.db.Close()
}

// IndexBytes is about how much memory the validation index's tokens take
// (validindex.Index.Bytes).
func (s *Store) IndexBytes() int64 { return s.index.Bytes() }

// Ping reports whether a read transaction succeeds, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("meta bucket missing")
		}
		return nil
	})
}

// view runs fn in a read transaction, off the write path.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return storage.ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return storage.ErrClosed
	}
	return err
}

var (
	_ storage.Backend     = (*Store)(nil)
	_ storage.Snapshotter = (*Store)(nil)
)
