package bbolt

import (
	"context"
	"io"
	"time"

	"tokenauthority/storage"
	"tokenauthority/storage/core"
)

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

// Store is the embedded store: the domain core (storage/core) over one
// bbolt file's Engine, for one process. A write returns once its group
// commit is fsynced and the validation index shows it.
type Store struct {
	*core.Store
	e *Engine
}

// Open opens or creates the store file at path (mode 0600), migrating a
// file of the schema-2 layout in one transaction first, and loads the
// validation index. A file written by a newer build is refused with an
// error wrapping ErrSchemaTooNew.
func Open(path string, opts Options) (*Store, error) {
	e, err := OpenEngine(path, EngineOptions{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if err != nil {
		return nil, err
	}
	s, err := core.Open(context.Background(), e, core.Options{MaxBatch: opts.MaxBatch, OnCommit: opts.OnCommit})
	if err != nil {
		_ = e.Close()
		return nil, err
	}
	return &Store{Store: s, e: e}, nil
}

// Backup streams a consistent snapshot of the file to w (Engine.Backup).
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return s.e.Backup(ctx, w)
}

var (
	_ storage.Backend     = (*Store)(nil)
	_ storage.Snapshotter = (*Store)(nil)
)
