package server

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// heldStore holds every RevokeLeaked until release is closed (or its
// context ends), telling entered each time one starts.
type heldStore struct {
	storage.Backend
	entered chan struct{}
	release chan struct{}
	done    atomic.Int64
}

func (h *heldStore) RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error) {
	h.entered <- struct{}{}
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer h.done.Add(1)
	return h.Backend.RevokeLeaked(ctx, hashes, at)
}

func newHeld(t *testing.T, queue int) (*Server, *heldStore) {
	t.Helper()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &heldStore{Backend: store, entered: make(chan struct{}, 16), release: make(chan struct{})}
	return New(Config{Store: h, LeakQueue: queue}), h
}

func report(s *Server) error {
	_, err := s.reportLeakedTokens(context.Background(), &pb.ReportLeakedTokensRequest{Secrets: []string{"tka_x"}})
	return err
}

// TestLeakQueueFullRefuses: with the worker busy and the queue full, a
// report is refused with a retry time (429 / ResourceExhausted), never
// taken and dropped; a clean Close processes every report it took, and
// refuses reports after it.
func TestLeakQueueFullRefuses(t *testing.T) {
	t.Parallel()
	s, h := newHeld(t, 2)
	if err := report(s); err != nil {
		t.Fatal(err)
	}
	<-h.entered // the worker holds the first report
	for i := range 2 {
		if err := report(s); err != nil {
			t.Fatalf("report %d into a queue with room: %v", i+2, err)
		}
	}
	err := report(s)
	var le *limitedError
	if !errors.As(err, &le) || le.retryAfter <= 0 {
		t.Fatalf("report into a full queue = %v; want a limitedError with a retry time", err)
	}
	if st := s.toStatus(context.Background(), pb.TokenService_ReportLeakedTokens_FullMethodName, err); status.Code(st) != codes.ResourceExhausted {
		t.Errorf("its status = %v; want ResourceExhausted", st)
	}
	close(h.release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if n := h.done.Load(); n != 3 {
		t.Errorf("Close processed %d reports; want the 3 it took", n)
	}
	if err := report(s); status.Code(err) != codes.Unavailable {
		t.Errorf("report after Close = %v; want Unavailable", err)
	}
}

// TestLeakQueueCloseDeadline: a Close whose deadline passes abandons what
// is still queued and returns, the worker stopped.
func TestLeakQueueCloseDeadline(t *testing.T) {
	t.Parallel()
	s, h := newHeld(t, 4)
	for range 3 {
		if err := report(s); err != nil {
			t.Fatal(err)
		}
	}
	<-h.entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close past its deadline = %v; want DeadlineExceeded", err)
	}
	if n := h.done.Load(); n != 0 {
		t.Errorf("%d reports processed after the deadline; want none", n)
	}
	// Closing again returns at once.
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestLeakReportMetric: processed reports are counted by outcome.
func TestLeakReportMetric(t *testing.T) {
	t.Parallel()
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := prometheus.NewRegistry()
	s := New(Config{Store: store, Metrics: metrics.New(reg)})
	for range 3 {
		if err := report(s); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.WaitLeakReports(ctx); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "tokenauthority_leak_reports_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if got[metrics.LeakUnmatched] != 3 || got[metrics.LeakMatched] != 0 {
		t.Errorf("tokenauthority_leak_reports_total = %v; want 3 unmatched", got)
	}
}

// TestLeakQueueCloseIdle: closing an idle queue loses nothing, even with
// no time left.
func TestLeakQueueCloseIdle(t *testing.T) {
	t.Parallel()
	s, _ := newHeld(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close of an idle queue with its context ended = %v; want nil", err)
	}
}
