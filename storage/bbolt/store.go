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
	// Timeout for the file lock (0: 1s); then Open fails with ErrLocked.
	Timeout time.Duration
	// MaxBatch caps how many writes share one commit; 0 means 256.
	MaxBatch int
	// OnCommit gets each commit's number of writes; it must be fast.
	OnCommit func(writes int)
	// NoSync skips every fsync: for bulk fills of throwaway files only, as a
	// crash loses acknowledged writes and may corrupt the file.
	NoSync bool
}

// Store is the domain core over one file's Engine. A write returns once
// fsynced and in the validation index.
type Store struct {
	*core.Store
	e *Engine
}

// Open opens or creates the store file at path, migrating a schema-2 file
// or refusing a newer one (OpenEngine), and loads the validation index.
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
