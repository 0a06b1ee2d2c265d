package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
)

// DefaultLeakQueue is how many answered leak reports may wait for their
// revocation at once when Config.LeakQueue is zero. A report holds at most
// maxBatch hashes of 32 bytes, so a full queue is some 8 MiB.
const DefaultLeakQueue = 256

// leakQueueRetry is the Retry-After of a report refused because the queue
// is full: one worker empties it in well under a second.
const leakQueueRetry = time.Second

// leakReport is a report answered but not yet looked up: the hashes of its
// secrets (never the secrets) and the draft of its audit event.
type leakReport struct {
	hashes [][32]byte
	event  *pb.AuditEvent
}

// leakQueue holds answered leak reports for one worker, which looks each
// up and revokes what matched in one commit per report. The answer of
// ReportLeakedTokens is given when the report is queued, so neither its
// content nor its timing says whether anything matched; a full queue
// refuses reports (429) rather than dropping ones it has answered.
type leakQueue struct {
	jobs chan leakReport

	mu     sync.Mutex
	closed bool
	// pending counts the reports queued or being processed; idle is
	// closed whenever it falls to zero.
	pending int
	idle    chan struct{}
	start   sync.Once
	// stopped is closed when the worker has returned.
	stopped chan struct{}
	// abandon ends the processing of what is still queued at Close.
	abandon context.CancelFunc
	ctx     context.Context
	// lost counts the reports abandoned unprocessed (worker only, read
	// after stopped).
	lost int
}

func newLeakQueue(size int) *leakQueue {
	if size <= 0 {
		size = DefaultLeakQueue
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &leakQueue{jobs: make(chan leakReport, size), idle: idle, stopped: make(chan struct{}), ctx: ctx, abandon: cancel}
}

// enqueue queues r, starting the worker on first use. It fails with
// Unavailable once the server is closing and with a limitedError when the
// queue is full.
func (s *Server) enqueueLeakReport(r leakReport) error {
	q := s.leaks
	q.start.Do(func() { go s.leakWorker() })
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return status.Error(codes.Unavailable, "the server is shutting down; report the secrets again to another replica or after its restart")
	}
	select {
	case q.jobs <- r:
	default:
		s.metrics.ObserveLeakReport(metrics.LeakQueueFull)
		return &limitedError{what: "too many leak reports are waiting to be processed", retryAfter: leakQueueRetry}
	}
	if q.pending == 0 {
		q.idle = make(chan struct{})
	}
	q.pending++
	return nil
}

// leakWorker processes queued reports until the queue is closed and
// drained, or abandoned.
func (s *Server) leakWorker() {
	q := s.leaks
	defer close(q.stopped)
	for r := range q.jobs {
		if q.ctx.Err() == nil {
			s.processLeakReport(q.ctx, r)
		} else {
			q.lost++
		}
		q.mu.Lock()
		q.pending--
		if q.pending == 0 {
			close(q.idle)
		}
		q.mu.Unlock()
	}
}

// processLeakReport revokes what r matched, in one commit with its audit
// event; a report that matched nothing writes nothing.
func (s *Server) processLeakReport(ctx context.Context, r leakReport) {
	var pending *audit.Pending
	if r.event != nil {
		ctx, pending = audit.NewContext(ctx, r.event)
		pending.OnlyIfRevoked()
	}
	recs, err := s.store.RevokeLeaked(ctx, r.hashes, s.now())
	if ev := pending.Recorded(); ev != nil {
		s.auditLog.write(ctx, ev)
	}
	if err != nil {
		s.metrics.ObserveLeakReport(metrics.LeakFailed)
		s.log.LogAttrs(ctx, slog.LevelError, "leak report: revoke failed", slog.Int("secrets", len(r.hashes)), slog.String("error", err.Error()))
		return
	}
	outcome := metrics.LeakUnmatched
	if len(recs) > 0 {
		outcome = metrics.LeakMatched
	}
	s.metrics.ObserveLeakReport(outcome)
	for _, rec := range recs {
		s.log.LogAttrs(ctx, slog.LevelWarn, "token revoked: reported as leaked",
			slog.String("token_id", rec.GetToken().GetTokenId()),
			slog.String("workspace_id", rec.GetToken().GetWorkspaceId()),
			slog.String("user_id", rec.GetToken().GetUserId()))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "leak report", slog.Int("secrets", len(r.hashes)), slog.Int("revoked", len(recs)))
}

// WaitLeakReports blocks until every leak report answered so far has been
// processed (its revocation committed, or found to match nothing), or ctx
// ends.
func (s *Server) WaitLeakReports(ctx context.Context) error {
	q := s.leaks
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking leak reports and processes those already answered
// until ctx ends; what is still queued then is abandoned (a report's
// answer says it was taken, not that its tokens are revoked yet). Call it
// after the servers have stopped and before the store is closed. It is
// safe to call more than once.
func (s *Server) Close(ctx context.Context) error {
	q := s.leaks
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
		// A worker that never started must still drain (nothing) and
		// close stopped.
		q.start.Do(func() { go s.leakWorker() })
	}
	q.mu.Unlock()
	select {
	case <-q.stopped:
		return nil
	case <-ctx.Done():
		q.abandon()
		<-q.stopped
		if q.lost > 0 {
			s.log.LogAttrs(ctx, slog.LevelWarn, "answered leak reports left unprocessed at shutdown", slog.Int("reports", q.lost))
			return fmt.Errorf("%d answered leak reports left unprocessed: %w", q.lost, ctx.Err())
		}
		return nil
	}
}
