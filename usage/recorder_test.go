package usage_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/usage"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// countingWriter is the real store, counting what each flush hands it.
type countingWriter struct {
	*bbolt.Store
	mu     sync.Mutex
	writes map[string]int
	calls  int
}

func (w *countingWriter) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	n, err := w.Store.RecordUses(ctx, uses)
	if err == nil {
		w.mu.Lock()
		w.calls++
		for id := range uses {
			w.writes[id]++
		}
		w.mu.Unlock()
	}
	return n, err
}

// newStore opens a store with one workspace and tokens ids.
func newStore(t *testing.T, ids ...string) *countingWriter {
	t.Helper()
	s, err := bbolt.Open(filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "ann"}); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		h := [32]byte{byte(i), 1}
		rec := &storagepb.TokenRecord{Token: &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(t0)}, SecretHash: h[:]}
		if err := s.CreateToken(ctx, rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	return &countingWriter{Store: s, writes: map[string]int{}}
}

func lastUsed(t *testing.T, s *bbolt.Store, id string) time.Time {
	t.Helper()
	rec, err := s.GetToken(context.Background(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	if lu := rec.GetToken().GetLastUsedTime(); lu != nil {
		return lu.AsTime()
	}
	return time.Time{}
}

func TestFlushWritesNewestUseOncePerInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newStore(t, "a", "b")
	c := teststack.NewClock(t0)
	r := usage.New(w, usage.Options{Interval: time.Minute, Now: c.Now})

	if n, err := r.Flush(ctx); err != nil || n != 0 || w.calls != 0 {
		t.Fatalf("Flush with nothing seen = %d, %v, %d calls; want no write", n, err, w.calls)
	}
	r.Seen("a", t0.Add(2*time.Second))
	r.Seen("a", t0.Add(time.Second)) // older: ignored
	r.Seen("b", t0)
	if n, err := r.Flush(ctx); err != nil || n != 2 {
		t.Fatalf("first Flush = %d, %v; want 2 tokens", n, err)
	}
	if got := lastUsed(t, w.Store, "a"); !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("a last used %v; want the newest use", got)
	}

	// Within the interval a new use waits ...
	c.Advance(59 * time.Second)
	r.Seen("a", c.Now())
	if n, err := r.Flush(ctx); err != nil || n != 0 {
		t.Fatalf("Flush within the interval = %d, %v; want 0", n, err)
	}
	// ... and is written once the interval has passed.
	c.Advance(time.Second)
	if n, err := r.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("Flush after the interval = %d, %v; want 1", n, err)
	}
	if got, want := lastUsed(t, w.Store, "a"), t0.Add(59*time.Second); !got.Equal(want) {
		t.Errorf("a last used %v; want %v", got, want)
	}
	if w.calls != 2 {
		t.Errorf("%d commits; want 2", w.calls)
	}
}

func TestFlushAllIgnoresInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newStore(t, "a")
	c := teststack.NewClock(t0)
	r := usage.New(w, usage.Options{Now: c.Now})
	r.Seen("a", t0)
	if _, err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Seen("a", t0.Add(time.Second))
	if n, err := r.FlushAll(ctx); err != nil || n != 1 {
		t.Fatalf("FlushAll = %d, %v; want 1", n, err)
	}
	if got := lastUsed(t, w.Store, "a"); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("a last used %v after FlushAll; want %v", got, t0.Add(time.Second))
	}
}

// TestFailedFlushKeepsUses: a write that fails (here: a closed store) loses
// nothing still in memory; the next flush writes it.
func TestFailedFlushKeepsUses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newStore(t, "a")
	path := filepath.Join(t.TempDir(), "other.db")
	closed, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	sw := &switchWriter{w: closed}
	r := usage.New(sw, usage.Options{Now: teststack.NewClock(t0).Now})
	r.Seen("a", t0)
	if _, err := r.Flush(ctx); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Flush to a closed store = %v; want ErrClosed", err)
	}
	sw.set(w)
	if n, err := r.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("Flush after the failure = %d, %v; want 1", n, err)
	}
	if got := lastUsed(t, w.Store, "a"); !got.Equal(t0) {
		t.Errorf("a last used %v; want %v", got, t0)
	}
}

type switchWriter struct {
	mu sync.Mutex
	w  usage.Writer
}

func (s *switchWriter) set(w usage.Writer) { s.mu.Lock(); s.w = w; s.mu.Unlock() }

func (s *switchWriter) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	return w.RecordUses(ctx, uses)
}

// TestConcurrentSeen: uses recorded from many goroutines while flushes run
// all arrive, each token with its newest use.
func TestConcurrentSeen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ids := []string{"a", "b", "c", "d"}
	w := newStore(t, ids...)
	c := teststack.NewClock(t0)
	r := usage.New(w, usage.Options{Now: c.Now})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				r.Seen(ids[(g+i)%len(ids)], t0.Add(time.Duration(i)*time.Millisecond))
			}
		}()
	}
	for range 5 {
		if _, err := r.Flush(ctx); err != nil {
			t.Error(err)
		}
		c.Advance(time.Minute)
	}
	wg.Wait()
	if _, err := r.FlushAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got, want := lastUsed(t, w.Store, id), t0.Add(499*time.Millisecond); !got.Equal(want) {
			t.Errorf("%s last used %v; want %v", id, got, want)
		}
	}
}

func TestRunFlushesUntilCancelled(t *testing.T) {
	t.Parallel()
	w := newStore(t, "a")
	r := usage.New(w, usage.Options{Interval: 12 * time.Millisecond})
	r.Seen("a", t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	teststack.Eventually(t, 10*time.Second, func() error {
		if lastUsed(t, w.Store, "a").IsZero() {
			return errors.New("Run did not write the use")
		}
		return nil
	})
	cancel()
	<-done
}
