package storage

import (
	"bytes"
	"fmt"
)

// WriteSet is an engine's record of one Update's writes: one Change per
// key (the last write wins, in the order of first writes), held to the
// engine's limits.
type WriteSet struct {
	limits  EngineLimits
	changes []Change
	index   map[string]int
	bytes   int
	err     error
}

// NewWriteSet returns an empty write set held to limits.
func NewWriteSet(limits EngineLimits) *WriteSet {
	return &WriteSet{limits: limits, index: map[string]int{}}
}

// errReadOnly is a write in a View, whose write set is nil.
var errReadOnly = fmt.Errorf("write in a read transaction: %w", ErrInvalid)

// Note records a put (or, with del, a delete) of key, copying key and
// value. ErrInvalid: an empty key or a nil set (a View's); ErrTooLarge,
// which sticks (Err): past the limits.
func (w *WriteSet) Note(key, value []byte, del bool) (Change, error) {
	if w == nil {
		return Change{}, errReadOnly
	}
	if w.err != nil {
		return Change{}, w.err
	}
	if len(key) == 0 {
		return Change{}, fmt.Errorf("empty key: %w", ErrInvalid)
	}
	ch := Change{Key: bytes.Clone(key), Delete: del}
	if !del {
		ch.Value = append([]byte{}, value...)
	}
	i, ok := w.index[string(key)]
	if ok {
		w.bytes -= len(w.changes[i].Key) + len(w.changes[i].Value)
		w.changes[i] = ch
	} else {
		w.index[string(key)] = len(w.changes)
		w.changes = append(w.changes, ch)
	}
	w.bytes += len(ch.Key) + len(ch.Value)
	if len(w.changes) > w.limits.MaxOps || w.bytes > w.limits.MaxBytes {
		w.err = fmt.Errorf("transaction of %d writes, %d bytes (limits %d, %d): %w",
			len(w.changes), w.bytes, w.limits.MaxOps, w.limits.MaxBytes, ErrTooLarge)
		return Change{}, w.err
	}
	return ch, nil
}

// Lookup returns key's pending change, if the set has one.
func (w *WriteSet) Lookup(key []byte) (Change, bool) {
	if w == nil {
		return Change{}, false
	}
	i, ok := w.index[string(key)]
	if !ok {
		return Change{}, false
	}
	return w.changes[i], true
}

// Changes is the set's changes; the caller must not modify them.
func (w *WriteSet) Changes() []Change { return w.changes }

// Err is the sticky limit error: the Update must fail with it even if its
// closure ignored the failed write.
func (w *WriteSet) Err() error { return w.err }
