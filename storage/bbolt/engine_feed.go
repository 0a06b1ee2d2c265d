package bbolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/storage"
)

// The change feed is served from memory; only the revision is in the file,
// so revisions go on after a restart. A journal in the file cost a quarter
// of the creates per second at 64 callers (docs/benchmarks.md), for a
// resumption across restarts that no in-process reader needs.

// nextRevision stores the next revision in btx, to commit with the data.
func nextRevision(btx *bolt.Tx) (int64, error) {
	rev := metaInt(btx, metaRevision) + 1
	return rev, btx.Bucket(engineMeta).Put(metaRevision, binary.BigEndian.AppendUint64(nil, uint64(rev)))
}

func metaInt(btx *bolt.Tx, key []byte) int64 {
	v := btx.Bucket(engineMeta).Get(key)
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// TrimJournal forgets the commits up to revision through, as an etcd
// compaction does. For tests.
func (e *Engine) TrimJournal(ctx context.Context, through int64) error {
	return e.use(ctx, func() error {
		e.wakeMu.Lock()
		defer e.wakeMu.Unlock()
		last := e.floor
		if n := len(e.tail); n > 0 {
			last = max(last, e.tail[n-1].Revision)
		}
		through = min(through, last)
		for len(e.tail) > 0 && e.tail[0].Revision <= through {
			e.drop()
		}
		e.floor = max(e.floor, through)
		return nil
	})
}

// committed records a commit's changes and wakes the feeds. Commits may
// report out of order (bbolt lets the next writer in first): the tail stays
// sorted and is trimmed only up to its first gap, so no feed misses one.
func (e *Engine) committed(b storage.ChangeBatch) {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if b.Revision <= e.floor {
		return // trimmed (TrimJournal) before it reported
	}
	i := len(e.tail)
	for i > 0 && e.tail[i-1].Revision > b.Revision {
		i--
	}
	e.tail = slices.Insert(e.tail, i, b)
	for _, c := range b.Changes {
		e.tailBytes += int64(len(c.Key) + len(c.Value))
	}
	for len(e.tail) > 1 && e.tail[0].Revision == e.floor+1 &&
		(int64(len(e.tail)) > e.journal || e.tailBytes > e.journalBytes) {
		e.drop()
	}
	close(e.wake)
	e.wake = make(chan struct{})
}

// drop forgets the oldest commit of the tail; wakeMu is held.
func (e *Engine) drop() {
	for _, c := range e.tail[0].Changes {
		e.tailBytes -= int64(len(c.Key) + len(c.Value))
	}
	e.floor = e.tail[0].Revision
	e.tail[0] = storage.ChangeBatch{}
	e.tail = e.tail[1:]
}

// fromTail returns the gapless commits after next (none: wait on the
// channel), or why the feed ends.
func (e *Engine) fromTail(next int64) ([]storage.ChangeBatch, <-chan struct{}, error) {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if e.tailClosed {
		return nil, nil, storage.ErrClosed
	}
	if next < e.floor {
		return nil, nil, fmt.Errorf("changes after revision %d: the feed starts after %d: %w", next, e.floor, storage.ErrCompacted)
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
	return page, e.wake, nil
}

// Changes streams the held commits after revision after, then each new one.
func (e *Engine) Changes(ctx context.Context, after int64) (<-chan storage.ChangeBatch, error) {
	var page []storage.ChangeBatch
	var wake <-chan struct{}
	err := e.use(ctx, func() (err error) {
		page, wake, err = e.fromTail(after)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(chan storage.ChangeBatch, 16)
	go e.feed(ctx, after, wake, page, out)
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
		if page, wake, err = e.fromTail(next); err != nil {
			select {
			case out <- storage.ChangeBatch{Revision: next, Err: err}:
			case <-ctx.Done():
			}
			return
		}
	}
}
