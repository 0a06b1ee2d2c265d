package bbolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/storage"
)

// feedPage is how many journal entries a feed reads per read transaction.
const feedPage = 256

// appendJournal gives the transaction the next revision, journals its
// changes under it and trims the journal to its length and size; all in
// btx, so the journal commits (and survives a crash) exactly with the
// data.
func (e *Engine) appendJournal(btx *bolt.Tx, changes []storage.Change) (int64, error) {
	rev := metaInt(btx, metaRevision) + 1
	entry := encodeChanges(changes)
	if err := putEntry(btx.Bucket(engineJournal), rev, entry); err != nil {
		return 0, err
	}
	if err := putMetaInt(btx, metaRevision, rev); err != nil {
		return 0, err
	}
	size := metaInt(btx, metaJournal) + int64(len(entry))
	if err := putMetaInt(btx, metaJournal, size); err != nil {
		return 0, err
	}
	// Trimmed by the length in steps of an eighth of it, not one entry a
	// commit.
	through := metaInt(btx, metaCompacted)
	if rev-through > e.journal+e.journal/8 {
		through = rev - e.journal
	}
	if size > e.journalBytes {
		// The oldest entries that take the journal past its size.
		j := btx.Bucket(engineJournal)
		c := j.Cursor()
		for k, _ := c.First(); k != nil && size > e.journalBytes && int64(binary.BigEndian.Uint64(k)) < rev; k, _ = c.Next() {
			v, _ := entryAt(j, k)
			size -= int64(len(v))
			through = max(through, int64(binary.BigEndian.Uint64(k)))
		}
	}
	return rev, trimJournal(btx, through)
}

// TrimJournal drops the journal up to and including revision through, as
// a compaction does on etcd: a feed resuming from before it gets
// ErrCompacted. OpenEngine's JournalLength trims on its own; this is for
// operators and tests.
func (e *Engine) TrimJournal(ctx context.Context, through int64) error {
	return e.use(ctx, func() error {
		return e.db.Update(func(btx *bolt.Tx) error { return trimJournal(btx, through) })
	})
}

func trimJournal(btx *bolt.Tx, through int64) error {
	if through <= metaInt(btx, metaCompacted) {
		return nil
	}
	if rev := metaInt(btx, metaRevision); through > rev {
		through = rev
	}
	// Keys first, deletes after: deleting under a walking cursor can skip
	// entries.
	size := metaInt(btx, metaJournal)
	j := btx.Bucket(engineJournal)
	var old [][]byte
	c := j.Cursor()
	for k, _ := c.First(); k != nil && int64(binary.BigEndian.Uint64(k)) <= through; k, _ = c.Next() {
		v, _ := entryAt(j, k)
		size -= int64(len(v))
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := deleteEntry(j, k); err != nil {
			return err
		}
	}
	if err := putMetaInt(btx, metaJournal, max(size, 0)); err != nil {
		return err
	}
	return putMetaInt(btx, metaCompacted, through)
}

// tailLength is how many commits the engine keeps in memory for feeds.
const tailLength = 64

// notify wakes every feed waiting for a commit.
func (e *Engine) notify() {
	e.wakeMu.Lock()
	close(e.wake)
	e.wake = make(chan struct{})
	e.wakeMu.Unlock()
}

// committed records a commit's changes in the tail and wakes the feeds.
// Commits may report out of order (bbolt lets the next writer in before
// this one's caller runs again): the tail stays sorted by revision.
func (e *Engine) committed(b storage.ChangeBatch) {
	e.wakeMu.Lock()
	i := len(e.tail)
	for i > 0 && e.tail[i-1].Revision > b.Revision {
		i--
	}
	e.tail = slices.Insert(e.tail, i, b)
	if n := len(e.tail) - tailLength; n > 0 {
		e.tail = slices.Delete(e.tail, 0, n)
	}
	close(e.wake)
	e.wake = make(chan struct{})
	e.wakeMu.Unlock()
}

// fromTail returns the commits after next that the tail holds
// without a gap, and whether it could tell: false when next is older than
// the tail (read the journal). An empty page with true means the next
// commit has not been reported yet: wait.
func (e *Engine) fromTail(next int64) ([]storage.ChangeBatch, <-chan struct{}, bool) {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if e.tailClosed || len(e.tail) == 0 || e.tail[0].Revision > next+1 {
		return nil, e.wake, false
	}
	var page []storage.ChangeBatch
	for _, b := range e.tail {
		if b.Revision <= next {
			continue
		}
		if b.Revision != next+1 {
			break // reported ahead of one still to come
		}
		page = append(page, b)
		next = b.Revision
	}
	return page, e.wake, true
}

func (e *Engine) waitCh() <-chan struct{} {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	return e.wake
}

// Changes streams the journal after revision after, then every commit as
// it happens. A feed that keeps up reads the last commits from memory; one
// further behind reads the file, one read transaction per page of up to
// 256 transactions.
func (e *Engine) Changes(ctx context.Context, after int64) (<-chan storage.ChangeBatch, error) {
	// Take the wake channel before each read, so a commit that lands
	// after the read still wakes the feed.
	wake := e.waitCh()
	first, err := e.readJournal(ctx, after)
	if err != nil {
		return nil, err
	}
	out := make(chan storage.ChangeBatch, 16)
	go e.feed(ctx, after, wake, first, out)
	return out, nil
}

func (e *Engine) feed(ctx context.Context, next int64, wake <-chan struct{}, page []storage.ChangeBatch, out chan<- storage.ChangeBatch) {
	defer close(out)
	for {
		for _, b := range page {
			select {
			case out <- b:
				next = b.Revision
			case <-ctx.Done():
				return
			}
		}
		if len(page) == 0 {
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
		}
		var err error
		var ok bool
		if page, wake, ok = e.fromTail(next); ok {
			continue
		}
		page, err = e.readJournal(ctx, next)
		if err != nil {
			if ctx.Err() == nil {
				select {
				case out <- storage.ChangeBatch{Revision: next, Err: err}:
				case <-ctx.Done():
				}
			}
			return
		}
	}
}

// readJournal reads up to feedPage transactions after revision after.
func (e *Engine) readJournal(ctx context.Context, after int64) ([]storage.ChangeBatch, error) {
	var page []storage.ChangeBatch
	err := e.use(ctx, func() error {
		return e.db.View(func(btx *bolt.Tx) error {
			if compacted := metaInt(btx, metaCompacted); after < compacted {
				return fmt.Errorf("changes after revision %d: journal starts after %d: %w", after, compacted, storage.ErrCompacted)
			}
			j := btx.Bucket(engineJournal)
			c := j.Cursor()
			for k, _ := c.Seek(revKey(after + 1)); k != nil && len(page) < feedPage; k, _ = c.Next() {
				v, err := entryAt(j, k)
				if err != nil {
					return fmt.Errorf("journal revision %d: %w", binary.BigEndian.Uint64(k), err)
				}
				changes, err := decodeChanges(v)
				if err != nil {
					return fmt.Errorf("journal revision %d: %w", binary.BigEndian.Uint64(k), err)
				}
				page = append(page, storage.ChangeBatch{Revision: int64(binary.BigEndian.Uint64(k)), Changes: changes})
			}
			return nil
		})
	})
	return page, err
}

func revKey(rev int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(rev)) }

// Each journal entry is a bucket of its own, holding the encoded changes
// under entryKey, so a commit writes its entry's pages once. As plain
// values of one bucket, the entries of big commits share leaf pages, and
// bbolt rewrites a whole leaf (two or three entries) at every append and
// at every trim.
var entryKey = []byte{0}

func putEntry(j *bolt.Bucket, rev int64, entry []byte) error {
	b, err := j.CreateBucket(revKey(rev))
	if err != nil {
		return err
	}
	return b.Put(entryKey, entry)
}

// entryAt is the encoded changes of journal key k.
func entryAt(j *bolt.Bucket, k []byte) ([]byte, error) {
	b := j.Bucket(k)
	if b == nil {
		return nil, errBadJournal
	}
	return b.Get(entryKey), nil
}

// deleteEntry drops journal key k, a damaged entry included.
func deleteEntry(j *bolt.Bucket, k []byte) error {
	if j.Bucket(k) == nil {
		return j.Delete(k)
	}
	return j.DeleteBucket(k)
}

func metaInt(btx *bolt.Tx, key []byte) int64 {
	v := btx.Bucket(engineMeta).Get(key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func putMetaInt(btx *bolt.Tx, key []byte, n int64) error {
	return btx.Bucket(engineMeta).Put(key, revKey(n))
}

// encodeChanges lays out each change as: kind byte (0 put, 1 delete),
// uvarint key length, key, and for a put uvarint value length, value.
func encodeChanges(changes []storage.Change) []byte {
	var buf []byte
	for _, c := range changes {
		kind := byte(0)
		if c.Delete {
			kind = 1
		}
		buf = append(buf, kind)
		buf = binary.AppendUvarint(buf, uint64(len(c.Key)))
		buf = append(buf, c.Key...)
		if !c.Delete {
			buf = binary.AppendUvarint(buf, uint64(len(c.Value)))
			buf = append(buf, c.Value...)
		}
	}
	return buf
}

var errBadJournal = errors.New("damaged journal entry")

// decodeChanges copies out of buf: the result outlives the transaction.
func decodeChanges(buf []byte) ([]storage.Change, error) {
	var out []storage.Change
	field := func() ([]byte, error) {
		n, w := binary.Uvarint(buf)
		if w <= 0 || uint64(len(buf)-w) < n {
			return nil, errBadJournal
		}
		f := append([]byte{}, buf[w:w+int(n)]...)
		buf = buf[w+int(n):]
		return f, nil
	}
	for len(buf) > 0 {
		kind := buf[0]
		buf = buf[1:]
		if kind > 1 {
			return nil, errBadJournal
		}
		key, err := field()
		if err != nil {
			return nil, err
		}
		c := storage.Change{Key: key, Delete: kind == 1}
		if !c.Delete {
			if c.Value, err = field(); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}
