package storage

import (
	"context"
	"errors"
)

// Engine is the contract under the domain stores: a transactional, ordered
// key-value store with a change feed. storage/bbolt implements it over one
// bbolt file (bbolt.Engine), storage/etcd over an etcd cluster (etcd.Engine),
// and storagetest.RunEngineTests holds both to it. Keys are compared as
// bytes; an empty key is refused (ErrInvalid). Every method is safe for
// concurrent use.
type Engine interface {
	// View runs fn in a read transaction: every read in it sees one
	// committed state, never a part of a transaction. fn's error is
	// returned as is.
	View(ctx context.Context, fn func(ReadTx) error) error

	// Update runs fn in a read-write transaction and commits its writes if
	// fn returns nil; if fn returns an error nothing is written and that
	// error is returned. fn may run more than once: an optimistic engine
	// (etcd) reruns it when a key it read changed before the commit, so fn
	// must compute everything from what it reads and have no other effect
	// that a rerun would repeat. When the engine gives up on conflicts it
	// returns ErrConflict, with nothing written. ErrUnavailable means the
	// engine could not reach its store; if that happened during the commit
	// the writes may or may not have landed: write so a retry is harmless.
	// rev is the revision the commit got in the change feed (0 when fn
	// wrote nothing): a reader of the feed has seen the write once it has
	// seen rev.
	Update(ctx context.Context, fn func(Tx) error) (rev int64, err error)

	// Limits is the most one Update may hold; see EngineLimits.
	Limits() EngineLimits

	// Revision is the revision of the last committed transaction that
	// wrote something, or a later one (etcd: the cluster's revision); a
	// feed from it delivers only transactions committed after the call.
	// 0 before the first.
	Revision(ctx context.Context) (int64, error)

	// Changes streams every transaction committed after revision after,
	// one ChangeBatch per transaction, in commit order, with progress marks
	// between them on engines that have them (see ChangeBatch). A consumer resumes
	// by passing the last Revision it saw. It fails with ErrCompacted when
	// the engine no longer holds the changes right after after (the caller
	// must reload with View and start from the revision it loaded).
	// The channel is closed when ctx ends; before closing it for any other
	// reason it delivers a batch whose Err says why (ErrCompacted,
	// ErrClosed, ErrUnavailable). A slow consumer slows only its own feed.
	Changes(ctx context.Context, after int64) (<-chan ChangeBatch, error)

	// Close releases the engine and ends every feed with ErrClosed. Calls
	// after Close fail with ErrClosed.
	Close() error
}

// ReadTx is the read side of a transaction. It is valid only inside the
// closure it was handed to. Byte slices it returns (values, and the keys
// and values passed to Range's fn) are valid only until the closure
// returns and must never be modified: copy what you keep.
type ReadTx interface {
	// Get returns key's value, or ErrNotFound itself (not wrapped: a miss
	// is common and costs no formatting). Inside Update it sees the
	// transaction's own earlier writes.
	Get(key []byte) ([]byte, error)

	// Range calls fn for each key k with start <= k < end in key order (end
	// nil: no upper bound), at most limit keys (limit <= 0: no limit). A
	// non-nil error from fn stops the walk and is returned. Inside Update
	// it sees the transaction's own earlier writes; fn must not write.
	Range(start, end []byte, limit int, fn func(key, value []byte) error) error

	// RangeReverse is Range in descending key order: the keys of
	// [start, end) from the last, at most limit of them (end nil: no upper
	// bound). Lists that show the newest first use it.
	RangeReverse(start, end []byte, limit int, fn func(key, value []byte) error) error
}

// Tx is a read-write transaction: ReadTx plus writes, which take effect
// all together when the closure returns nil. Put and Delete copy their
// arguments. A write past the engine's Limits returns ErrTooLarge, and
// the whole Update then fails with it even if the closure ignores it.
type Tx interface {
	ReadTx
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
}

// Prefetcher is a Tx of an engine whose reads are round trips (etcd): it
// can read many keys ahead in one, and a later Get of one of them answers
// from what it fetched. It is a hint: it may fetch fewer keys than asked
// (to stay within Limits), and a Tx without it reads each key when asked.
type Prefetcher interface {
	Prefetch(keys [][]byte) error
}

// EngineLimits is the most one Update may hold. The domain core splits
// bigger changes (a huge revocation) into transactions within them.
type EngineLimits struct {
	// MaxOps is the most puts and deletes (counting each key once).
	MaxOps int
	// MaxBytes is the most bytes of keys and values written.
	MaxBytes int
	// MaxReads is the most keys and ranges read (0: no limit): each key
	// read by Get or returned by Range counts once, each Range once more.
	// etcd checks each in its commit, and a commit takes at most as many
	// checks as writes. A View is not limited.
	MaxReads int
}

// Or returns l with each zero field taken from d: options that override
// an engine's default limits field by field.
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

// ChangeBatch is the changes of one committed transaction, or, when
// Changes is empty and Err nil, a progress mark: every transaction up to
// Revision has been delivered.
type ChangeBatch struct {
	Revision int64
	Changes  []Change
	// Err, when set, is the last batch: why the feed ended.
	Err error
}

// Change is one key's new state. Key and Value stay valid after the feed
// moves on, but may be shared with other feeds: never modify them.
type Change struct {
	Key   []byte
	Value []byte // nil for a delete
	// Delete says the key was removed.
	Delete bool
}

// The engine's own sentinels, each wrapped by the engines' errors. A
// transaction past Limits fails with ErrTooLarge (errors.go), one the
// engine cannot commit for want of a quorum with ErrUnavailable.
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
