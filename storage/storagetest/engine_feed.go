package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/storage"
)

// nextBatch returns the feed's next transaction, skipping progress marks.
func nextBatch(t testing.TB, ch <-chan storage.ChangeBatch) storage.ChangeBatch {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case b, ok := <-ch:
			if !ok {
				t.Fatal("feed closed early")
			}
			if b.Err != nil || len(b.Changes) > 0 {
				return b
			}
		case <-timeout:
			t.Fatal("no change from the feed in 20s")
		}
	}
}

// feedErr returns the error that opening a feed from after, or its first
// batch, reports; a feed that delivers a change instead fails the test.
func feedErr(t testing.TB, ctx context.Context, e storage.Engine, after int64) error {
	t.Helper()
	ch, err := e.Changes(ctx, after)
	if err != nil {
		return err
	}
	b := nextBatch(t, ch)
	if b.Err == nil {
		t.Fatalf("Changes(%d) delivered revision %d, want an error", after, b.Revision)
	}
	return b.Err
}

func engineRevision(t testing.TB, ctx context.Context, e storage.Engine) int64 {
	t.Helper()
	rev, err := e.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision = %v", err)
	}
	return rev
}

func enginePuts(kv ...string) []storage.Change {
	var out []storage.Change
	for i := 0; i < len(kv); i += 2 {
		out = append(out, storage.Change{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return out
}

func engineDel(key string) storage.Change { return storage.Change{Key: []byte(key), Delete: true} }

// feedTxs are three transactions and the batch each must produce.
var feedTxs = []struct {
	fn   func(storage.Tx) error
	want []storage.Change
}{
	{func(tx storage.Tx) error {
		return errors.Join(tx.Put([]byte("a"), []byte("1")), tx.Put([]byte("b"), []byte("1")))
	}, enginePuts("a", "1", "b", "1")},
	{func(tx storage.Tx) error {
		return errors.Join(tx.Delete([]byte("a")), tx.Put([]byte("c"), []byte("2")))
	}, []storage.Change{engineDel("a"), enginePuts("c", "2")[0]}},
	{func(tx storage.Tx) error {
		// One change per key: the last write wins.
		return errors.Join(tx.Put([]byte("b"), []byte("2")), tx.Put([]byte("b"), []byte("3")))
	}, enginePuts("b", "3")},
}

// commitFeedTxs commits feedTxs (with a no-op Update between, which must
// not reach the feed) and returns the revision each commit reported,
// checked against Revision read right after it.
func commitFeedTxs(t testing.TB, ctx context.Context, e storage.Engine) []int64 {
	t.Helper()
	var revs []int64
	for i, tx := range feedTxs {
		rev, err := e.Update(ctx, tx.fn)
		if err != nil {
			t.Fatalf("Update %d = %v", i, err)
		}
		if after := engineRevision(t, ctx, e); rev <= 0 || rev > after {
			t.Errorf("Update %d reported revision %d, Revision right after it is %d", i, rev, after)
		}
		revs = append(revs, rev)
		noop := func(tx storage.Tx) error { return tx.Delete([]byte("never-there")) }
		if _, err := e.Update(ctx, noop); err != nil {
			t.Fatalf("no-op Update = %v", err)
		}
	}
	return revs
}

// expectFeed reads len(want) transactions and checks their changes and
// that revisions grow.
func expectFeed(t testing.TB, ch <-chan storage.ChangeBatch, after int64, want [][]storage.Change) []int64 {
	t.Helper()
	var revs []int64
	last := after
	for i, w := range want {
		b := nextBatch(t, ch)
		if b.Err != nil {
			t.Fatalf("batch %d: feed error %v", i, b.Err)
		}
		if b.Revision <= last {
			t.Errorf("batch %d: revision %d after %d, want it to grow", i, b.Revision, last)
		}
		last = b.Revision
		revs = append(revs, b.Revision)
		if diff := cmp.Diff(w, b.Changes); diff != "" {
			t.Errorf("batch %d (revision %d) (-want +got):\n%s", i, b.Revision, diff)
		}
	}
	return revs
}

// checkRevs checks fed revisions against the ones the commits reported.
func checkRevs(t testing.TB, committed, fed []int64) {
	t.Helper()
	for i, rev := range fed {
		if committed[i] != rev {
			t.Errorf("transaction %d fed at revision %d; its commit reported %d (fed %v, reported %v)", i, rev, committed[i], fed, committed)
		}
	}
}

func wantBatches(from int) [][]storage.Change {
	var out [][]storage.Change
	for _, tx := range feedTxs[from:] {
		out = append(out, tx.want)
	}
	return out
}

func testEngineFeedOrder(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	rev0 := engineRevision(t, ctx, e)
	ch, err := e.Changes(ctx, rev0)
	if err != nil {
		t.Fatalf("Changes(%d) = %v", rev0, err)
	}
	committed := commitFeedTxs(t, ctx, e)
	got := expectFeed(t, ch, rev0, wantBatches(0))
	checkRevs(t, committed, got)
	// Resume after the first transaction: the same later batches.
	ch2, err := e.Changes(ctx, got[0])
	if err != nil {
		t.Fatalf("Changes(%d) = %v", got[0], err)
	}
	if diff := cmp.Diff(got[1:], expectFeed(t, ch2, got[0], wantBatches(1))); diff != "" {
		t.Errorf("resumed feed revisions (-first +resumed):\n%s", diff)
	}
}

func testEngineFeedAfterRestart(t *testing.T, u EngineUnderTest) {
	ctx := engineCtx(t)
	revs := commitFeedTxs(t, ctx, u.Engine)
	e := u.Reopen(t)
	if got, err := engineGet(t, ctx, e, "b"); err != nil || got != "3" {
		t.Fatalf("after reopening, Get(b) = %q, %v; want 3", got, err)
	}
	from := revs[0]
	if u.FeedFromOpen {
		if err := feedErr(t, ctx, e, revs[0]); !errors.Is(err, storage.ErrCompacted) {
			t.Errorf("after reopening, Changes(%d) = %v; want ErrCompacted (the feed starts at the reopened revision)", revs[0], err)
		}
		if from = engineRevision(t, ctx, e); from < revs[2] {
			t.Fatalf("after reopening, Revision = %d; want at least %d", from, revs[2])
		}
	}
	ch, err := e.Changes(ctx, from)
	if err != nil {
		t.Fatalf("after reopening, Changes(%d) = %v", from, err)
	}
	if !u.FeedFromOpen {
		checkRevs(t, revs[1:], expectFeed(t, ch, revs[0], wantBatches(1)))
	}
	enginePut(t, ctx, e, "d", "4")
	if b := nextBatch(t, ch); b.Err != nil || b.Revision <= revs[2] || !cmp.Equal(enginePuts("d", "4"), b.Changes) {
		t.Errorf("first commit after reopening: %+v, want d=4 at a revision above %d", b, revs[2])
	}
}

func testEngineFeedAfterCompaction(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	revs := commitFeedTxs(t, ctx, e)
	u.Compact(t, revs[1])
	if err := feedErr(t, ctx, e, revs[0]); !errors.Is(err, storage.ErrCompacted) {
		t.Errorf("Changes(%d) after compacting through %d: %v, want ErrCompacted", revs[0], revs[1], err)
	}
	ch, err := e.Changes(ctx, revs[1])
	if err != nil {
		t.Fatalf("Changes(%d) = %v", revs[1], err)
	}
	expectFeed(t, ch, revs[1], wantBatches(2))
	// The reload a compacted feed asks for still works.
	if got, err := engineGet(t, ctx, e, "c"); err != nil || got != "2" {
		t.Errorf("Get(c) after compaction = %q, %v; want 2", got, err)
	}
}

func testEngineClose(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	enginePut(t, ctx, e, "a", "1")
	ch, err := e.Changes(ctx, engineRevision(t, ctx, e))
	if err != nil {
		t.Fatalf("Changes = %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if b := nextBatch(t, ch); !errors.Is(b.Err, storage.ErrClosed) {
		t.Errorf("open feed after Close: %+v, want a batch with ErrClosed", b)
	}
	calls := map[string]func() error{
		"View":   func() error { return e.View(ctx, func(storage.ReadTx) error { return nil }) },
		"Update": func() error { _, err := e.Update(ctx, func(storage.Tx) error { return nil }); return err },
		"Changes": func() error {
			_, err := e.Changes(ctx, 0)
			return err
		},
		"Close again": func() error {
			if err := e.Close(); err != nil {
				return err
			}
			return storage.ErrClosed
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}
