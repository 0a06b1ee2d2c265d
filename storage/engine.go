package storage

import (
	"context"
	"errors"
)

// Engine is the contract under the domain core: a transactional, ordered
// key-value store with a change feed (bbolt.Engine, etcd.Engine), held to
// it by storagetest.RunEngineTests. Keys compare as bytes; an empty key is
// refused (ErrInvalid). Every method is safe for concurrent use.
type Engine interface {
	// View runs fn in a read transaction that sees one committed state.
	// fn's error is returned as is.
	View(ctx context.Context, fn func(ReadTx) error) error

	// Update runs fn in a read-write transaction and commits its writes if
	// fn returns nil (else it writes nothing and returns fn's error). fn
	// may run more than once (etcd reruns it when a key it read changed),
	// so it must compute everything from what it reads and have no other
	// effect. ErrConflict: the engine gave up on conflicts, nothing
	// written. ErrUnavailable: the store could not be reached, and a
	// commit under way may or may not have landed, so write so that a
	// retry is harmless. rev is the commit's revision in the change feed
	// (0 when fn wrote nothing): a feed reader that saw rev saw the write.
	Update(ctx context.Context, fn func(Tx) error) (rev int64, err error)

	// Limits is the most one Update may hold.
	Limits() EngineLimits

	// Revision is the revision of the last transaction that wrote, or a
	// later one (etcd: the cluster's); 0 before the first. A feed from it
	// delivers only transactions committed after the call.
	Revision(ctx context.Context) (int64, error)

	// Changes streams every transaction committed after revision after,
	// one ChangeBatch each, in commit order, with progress marks between
	// on engines that have them; a consumer resumes from the last Revision
	// it saw. ErrCompacted: the changes right after after are gone (reload
	// with View, resume from the revision loaded). The channel closes when
	// ctx ends; closing for any other reason, it first delivers a batch
	// whose Err says why (ErrCompacted, ErrClosed, ErrUnavailable). A slow
	// consumer slows only its own feed.
	Changes(ctx context.Context, after int64) (<-chan ChangeBatch, error)

	// Close releases the engine and ends every feed with ErrClosed; later
	// calls fail with ErrClosed.
	Close() error
}

// ReadTx is the read side of a transaction, valid only inside the closure
// it was handed to. Byte slices it returns (values, and Range's keys and
// values) are valid only until the closure returns and must never be
// modified: copy what you keep.
type ReadTx interface {
	// Get returns key's value, or ErrNotFound itself (not wrapped: a miss
	// is common). Inside Update it sees the transaction's own writes.
	Get(key []byte) ([]byte, error)

	// Range calls fn for each key k with start <= k < end (end nil: no
	// bound) in key order, at most limit keys (limit <= 0: all). An error
	// from fn stops the walk and is returned. Inside Update it sees the
	// transaction's own writes; fn must not write.
	Range(start, end []byte, limit int, fn func(key, value []byte) error) error

	// RangeReverse is Range in descending key order, for lists that show
	// the newest first.
	RangeReverse(start, end []byte, limit int, fn func(key, value []byte) error) error
}

// Tx is ReadTx plus writes, which take effect together when the closure
// returns nil. Put and Delete copy their arguments. A write past the
// engine's Limits returns ErrTooLarge, and the Update fails with it even
// if the closure ignores it.
type Tx interface {
	ReadTx
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
}

// Prefetcher is a Tx whose reads are round trips (etcd): it reads many keys
// in one, and a later Get of one answers from what it fetched. It is a
// hint: it may fetch fewer keys than asked (to stay within Limits).
type Prefetcher interface {
	Prefetch(keys [][]byte) error
}

// EngineLimits is the most one Update may hold; the core splits bigger
// changes (a huge revocation) into transactions within them.
type EngineLimits struct {
	// MaxOps is the most puts and deletes (each key counted once).
	MaxOps int
	// MaxBytes is the most bytes of keys and values written.
	MaxBytes int
	// MaxReads is the most keys and ranges read (0: no limit): each key
	// read or returned by Range counts once, each Range once more. etcd
	// checks each at commit. A View is not limited.
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

// ChangeBatch is the changes of one committed transaction or, with no
// Changes and no Err, a progress mark: everything up to Revision has been
// delivered.
type ChangeBatch struct {
	Revision int64
	Changes  []Change
	// Err, when set, is the last batch: why the feed ended.
	Err error
}

// Change is one key's new state. Key and Value stay valid after the feed
// moves on but may be shared with other feeds: never modify them.
type Change struct {
	Key    []byte
	Value  []byte // nil for a delete
	Delete bool
}

// The engines' own sentinels (a transaction past Limits fails with
// ErrTooLarge, one without a quorum with ErrUnavailable).
var (
	// ErrConflict means an optimistic Update kept losing to concurrent
	// writers of the keys it read and gave up; nothing was written.
	ErrConflict = errors.New("transaction conflicted too often")
	// ErrCompacted means the change feed no longer holds the requested
	// revision; reload the state and resume from its revision.
	ErrCompacted = errors.New("revision compacted")
)

// PrefixEnd returns the end of the range of keys that start with prefix
// (nil when every byte is 0xff: no upper bound).
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

// RangePrefix calls fn for each key that starts with prefix, as Range does.
func RangePrefix(tx ReadTx, prefix []byte, limit int, fn func(key, value []byte) error) error {
	return tx.Range(prefix, PrefixEnd(prefix), limit, fn)
}
