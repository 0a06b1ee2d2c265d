package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/storage"
)

// EngineUnderTest is a fresh, empty engine with the two things the suite
// cannot do through the contract.
type EngineUnderTest struct {
	Engine storage.Engine
	// Reopen closes Engine and opens the same state again the way a
	// restarted process would (bbolt: the same file; etcd: a new client),
	// returning the new engine.
	Reopen func(t testing.TB) storage.Engine
	// Compact makes every revision up to and including rev unavailable to
	// Changes (bbolt: trims the journal; etcd: compacts the cluster).
	Compact func(t testing.TB, rev int64)
	// FeedFromOpen says the feed holds only commits made since the engine
	// was opened (bbolt keeps it in memory): after Reopen, an earlier
	// revision is compacted. Else the feed resumes across a restart.
	FeedFromOpen bool
}

// NewEngine opens a fresh engine for one test; it is closed when the test
// ends. Parallel tests call it concurrently.
type NewEngine func(t testing.TB) EngineUnderTest

// RunEngineTests holds an engine to the storage.Engine contract. The
// compaction test runs last and alone: on etcd a compaction is
// cluster-wide and would break the other tests' feeds.
func RunEngineTests(t *testing.T, newEngine NewEngine) {
	t.Run("contract", func(t *testing.T) {
		for _, c := range engineTests {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.run(t, newEngine(t))
			})
		}
	})
	t.Run("FeedAfterCompaction", func(t *testing.T) { testEngineFeedAfterCompaction(t, newEngine(t)) })
}

var engineTests = []struct {
	name string
	run  func(*testing.T, EngineUnderTest)
}{
	{"GetPutDelete", testEngineGetPutDelete},
	{"Range", testEngineRange},
	{"RangeSeesOwnWrites", testEngineRangeSeesOwnWrites},
	{"FailedUpdateWritesNothing", testEngineFailedUpdateWritesNothing},
	{"ReaderNeverSeesHalfATransaction", testEngineIsolation},
	{"ConcurrentIncrementsAllLand", testEngineConcurrentIncrements},
	{"RangeReadsConflict", testEngineRangeConflicts},
	{"LimitsEnforced", testEngineLimits},
	{"FeedOrderAndGrouping", testEngineFeedOrder},
	{"FeedAfterRestart", testEngineFeedAfterRestart},
	{"Close", testEngineClose},
}

func engineCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// enginePut commits key=value pairs in one transaction.
func enginePut(t testing.TB, ctx context.Context, e storage.Engine, kv ...string) {
	t.Helper()
	_, err := e.Update(ctx, func(tx storage.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(put %q) = %v", kv, err)
	}
}

// engineGet reads key in its own View; "" with ErrNotFound for an absent key.
func engineGet(t testing.TB, ctx context.Context, e storage.Engine, key string) (string, error) {
	t.Helper()
	var v string
	err := e.View(ctx, func(tx storage.ReadTx) error {
		b, err := tx.Get([]byte(key))
		v = string(b)
		return err
	})
	return v, err
}

// engineRangeAll lists [start, end) with limit as "k=v" strings, with
// RangeReverse when reverse.
func engineRangeAll(tx storage.ReadTx, start, end string, limit int, reverse bool) ([]string, error) {
	var endB []byte
	if end != "" {
		endB = []byte(end)
	}
	var got []string
	walk := tx.Range
	if reverse {
		walk = tx.RangeReverse
	}
	err := walk([]byte(start), endB, limit, func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	return got, err
}

func testEngineGetPutDelete(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	if _, err := engineGet(t, ctx, e, "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(absent) error = %v, want ErrNotFound", err)
	}
	enginePut(t, ctx, e, "a", "1")
	if got, err := engineGet(t, ctx, e, "a"); err != nil || got != "1" {
		t.Fatalf("Get(a) = %q, %v; want 1", got, err)
	}
	enginePut(t, ctx, e, "a", "2")
	if got, err := engineGet(t, ctx, e, "a"); err != nil || got != "2" {
		t.Fatalf("Get(a) after overwrite = %q, %v; want 2", got, err)
	}
	_, err := e.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Delete([]byte("a")); err != nil {
			return err
		}
		if _, err := tx.Get([]byte("a")); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("Get of a key deleted in the same transaction: %v, want ErrNotFound", err)
		}
		return tx.Delete([]byte("never-there"))
	})
	if err != nil {
		t.Fatalf("Update(delete) = %v", err)
	}
	if _, err := engineGet(t, ctx, e, "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(deleted) error = %v, want ErrNotFound", err)
	}
	// A View's transaction may be a Tx underneath; writing through it fails.
	err = e.View(ctx, func(rtx storage.ReadTx) error {
		tx, ok := rtx.(storage.Tx)
		if !ok {
			return nil
		}
		if err := tx.Put([]byte("v"), []byte("1")); !errors.Is(err, storage.ErrInvalid) {
			return fmt.Errorf("Put in View = %v, want ErrInvalid", err)
		}
		if err := tx.Delete([]byte("v")); !errors.Is(err, storage.ErrInvalid) {
			return fmt.Errorf("Delete in View = %v, want ErrInvalid", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View = %v", err)
	}
	for _, name := range []string{"Get", "Put"} {
		_, err := e.Update(ctx, func(tx storage.Tx) error {
			if name == "Get" {
				_, err := tx.Get(nil)
				return err
			}
			return tx.Put(nil, []byte("x"))
		})
		if !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s(empty key) error = %v, want ErrInvalid", name, err)
		}
	}
}

func testEngineRange(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	enginePut(t, ctx, e, "b/2", "2", "a", "0", "b/1", "1", "b/3", "3", "c", "4", "b/10", "10")
	tests := []struct {
		name       string
		start, end string
		limit      int
		reverse    bool
		want       []string
	}{
		{"all in key order", "", "", 0, false, []string{"a=0", "b/1=1", "b/10=10", "b/2=2", "b/3=3", "c=4"}},
		{"end excluded", "b/1", "b/3", 0, false, []string{"b/1=1", "b/10=10", "b/2=2"}},
		{"limit", "b/", "", 2, false, []string{"b/1=1", "b/10=10"}},
		{"empty range", "d", "e", 0, false, nil},
		{"reverse all", "", "", 0, true, []string{"c=4", "b/3=3", "b/2=2", "b/10=10", "b/1=1", "a=0"}},
		{"reverse end excluded", "b/1", "b/3", 0, true, []string{"b/2=2", "b/10=10", "b/1=1"}},
		{"reverse end between keys", "b/", "b/25", 0, true, []string{"b/2=2", "b/10=10", "b/1=1"}},
		{"reverse limit", "b/", "c", 2, true, []string{"b/3=3", "b/2=2"}},
		{"reverse empty range", "d", "e", 0, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := e.View(ctx, func(tx storage.ReadTx) error {
				var err error
				got, err = engineRangeAll(tx, tt.start, tt.end, tt.limit, tt.reverse)
				return err
			})
			if err != nil {
				t.Fatalf("View = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Range(%q, %q, %d, reverse %v) (-want +got):\n%s", tt.start, tt.end, tt.limit, tt.reverse, diff)
			}
		})
	}
	t.Run("prefix", func(t *testing.T) {
		var got []string
		err := e.View(ctx, func(tx storage.ReadTx) error {
			return storage.RangePrefix(tx, []byte("b/"), 0, func(k, _ []byte) error {
				got = append(got, string(k))
				return nil
			})
		})
		if err != nil {
			t.Fatalf("View = %v", err)
		}
		if diff := cmp.Diff([]string{"b/1", "b/10", "b/2", "b/3"}, got); diff != "" {
			t.Errorf("RangePrefix(b/) (-want +got):\n%s", diff)
		}
	})
	t.Run("fn error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := e.View(ctx, func(tx storage.ReadTx) error {
			return tx.Range(nil, nil, 0, func(_, _ []byte) error { n++; return stop })
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("View = %v after %d calls, want the fn's error after 1", err, n)
		}
	})
}

func testEngineRangeSeesOwnWrites(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	enginePut(t, ctx, e, "k1", "old", "k3", "old", "k5", "old")
	tests := []struct {
		name    string
		limit   int
		reverse bool
		want    []string
	}{
		{"no limit", 0, false, []string{"k0=new", "k1=new", "k4=new", "k6=new"}},
		{"limit 2", 2, false, []string{"k0=new", "k1=new"}},
		{"limit 3", 3, false, []string{"k0=new", "k1=new", "k4=new"}},
		{"reverse", 0, true, []string{"k6=new", "k4=new", "k1=new", "k0=new"}},
		{"reverse limit 2", 2, true, []string{"k6=new", "k4=new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			sentinel := errors.New("roll back")
			_, err := e.Update(ctx, func(tx storage.Tx) error {
				for _, k := range []string{"k0", "k1", "k4", "k6"} {
					if err := tx.Put([]byte(k), []byte("new")); err != nil {
						return err
					}
				}
				for _, k := range []string{"k3", "k5"} {
					if err := tx.Delete([]byte(k)); err != nil {
						return err
					}
				}
				var err error
				if got, err = engineRangeAll(tx, "k", "l", tt.limit, tt.reverse); err != nil {
					return err
				}
				return sentinel
			})
			if !errors.Is(err, sentinel) {
				t.Fatalf("Update = %v, want the closure's error", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Range inside the writing transaction (-want +got):\n%s", diff)
			}
		})
	}
}

func testEngineFailedUpdateWritesNothing(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	enginePut(t, ctx, e, "a", "1")
	before, err := e.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision = %v", err)
	}
	boom := errors.New("boom")
	_, err = e.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Put([]byte("a"), []byte("2")); err != nil {
			return err
		}
		if err := tx.Put([]byte("b"), []byte("2")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the closure's error", err)
	}
	if got, err := engineGet(t, ctx, e, "a"); err != nil || got != "1" {
		t.Errorf("Get(a) = %q, %v; want the old 1", got, err)
	}
	if _, err := engineGet(t, ctx, e, "b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(b) error = %v, want ErrNotFound", err)
	}
	after, err := e.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision = %v", err)
	}
	// etcd's revision is the cluster's; other tests may move it, so only
	// bound it from below for this engine's writes through the feed test.
	if after < before {
		t.Errorf("Revision went back from %d to %d", before, after)
	}
}
