package storage

import (
	"context"
	"errors"
)

// Engine is the contract under the domain core: a transactional, ordered
// key-value store with a change feed, held to it by
// storagetest.RunEngineTests. Keys compare as bytes; an empty one is
// refused (ErrInvalid). Methods are safe for concurrent use.
type Engine interface {
	// View runs fn in a read transaction that sees one committed state.
	View(ctx context.Context, fn func(ReadTx) error) error

	// Update commits fn's writes if fn returns nil. fn may run more than
	// once (etcd reruns it when a key it read changed): no other effects.
	// ErrUnavailable may hide a commit that landed: make retries harmless.
	// rev (0: nothing written) is the commit's revision in the feed.
	Update(ctx context.Context, fn func(Tx) error) (rev int64, err error)

	// Limits is the most one Update may hold.
	Limits() EngineLimits

	// Revision is the last commit's revision or a later one (0: none); a
	// feed from it delivers only commits after the call.
	Revision(ctx context.Context) (int64, error)

	// Changes streams every commit after revision after, one ChangeBatch
	// each, in order. ErrCompacted: those changes are gone; reload with
	// View. The channel closes when ctx ends; ending otherwise, its last
	// batch's Err says why. A slow consumer slows only its own feed.
	Changes(ctx context.Context, after int64) (<-chan ChangeBatch, error)

	// Close ends every feed with ErrClosed; later calls fail with it.
	Close() error
}

// ReadTx is the read side of a transaction, valid only inside its
// closure, as are the byte slices it returns: copy what you keep, and
// never modify them.
type ReadTx interface {
	// Get returns key's value or ErrNotFound itself (not wrapped: a miss
	// is common). Reads inside Update see the transaction's own writes.
	Get(key []byte) ([]byte, error)

	// Range calls fn, in key order, for at most limit (<= 0: all) keys in
	// [start, end) (end nil: no bound); fn's error stops it. fn must not
	// write.
	Range(start, end []byte, limit int, fn func(key, value []byte) error) error

	// RangeReverse is Range in descending key order.
	RangeReverse(start, end []byte, limit int, fn func(key, value []byte) error) error
}

// Tx is ReadTx plus writes, which copy their arguments. A write past
// Limits returns ErrTooLarge, and the Update fails with it even if the
// closure ignores it.
type Tx interface {
	ReadTx
	Put(key, value []byte) error
	// Delete of an absent key is not an error.
	Delete(key []byte) error
}

// Prefetcher is a Tx whose reads are round trips (etcd): it reads many
// keys in one for later Gets. A hint: it may fetch fewer (within Limits).
type Prefetcher interface {
	Prefetch(keys [][]byte) error
}

// EngineLimits is the most one Update may hold; the core splits bigger
// changes.
type EngineLimits struct {
	// MaxOps is the most puts and deletes (each key counted once).
	MaxOps int
	// MaxBytes is the most bytes of keys and values written.
	MaxBytes int
	// MaxReads is the most keys and ranges an Update reads (0: no limit):
	// each key read or returned counts once, each Range once more.
	MaxReads int
}

// Or returns l with each zero field taken from d.
func (l EngineLimits) Or(d EngineLimits) EngineLimits {
	if l.MaxOps <= 0 {
		l.MaxOps = d.MaxOps
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxReads <= 0 {
		l.MaxReads = d.MaxReads
	}
	return l
}

// ChangeBatch is one commit's changes or, with neither Changes nor Err, a
// progress mark: everything up to Revision has been delivered.
type ChangeBatch struct {
	Revision int64
	Changes  []Change
	// Err, when set, ends the feed and says why.
	Err error
}

// Change is one key's new state; shared with other feeds, never modify it.
type Change struct {
	Key    []byte
	Value  []byte // nil for a delete
	Delete bool
}

// The engines' own sentinels, beside ErrTooLarge and ErrUnavailable.
var (
	// ErrConflict: an optimistic Update kept losing to concurrent writers
	// of the keys it read and gave up; nothing was written.
	ErrConflict = errors.New("transaction conflicted too often")
	// ErrCompacted: the feed no longer holds the requested revision.
	ErrCompacted = errors.New("revision compacted")
)

// PrefixEnd is the end of the range of keys under prefix (nil: no bound).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// RangePrefix calls fn for each key under prefix, as Range does.
func RangePrefix(tx ReadTx, prefix []byte, limit int, fn func(key, value []byte) error) error {
	return tx.Range(prefix, PrefixEnd(prefix), limit, fn)
}
