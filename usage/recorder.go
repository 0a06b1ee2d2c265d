package usage

import (
	"context"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// DefaultInterval is the least time between two writes of one token's
// last-used time.
const DefaultInterval = time.Minute

// shardCount spreads Seen over independent locks so that concurrent
// validations of different tokens rarely wait for each other.
const shardCount = 64

// Writer stores last-used times: for each token id, the newest time it was
// used. It must write them all in one commit and skip ids it does not know.
type Writer interface {
	RecordUses(ctx context.Context, uses map[string]time.Time) (int, error)
}

// Options tune New. The zero value is ready to use.
type Options struct {
	// Interval is the least time between two writes of one token; 0 means
	// DefaultInterval.
	Interval time.Duration
	// Now is the clock that spaces writes; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// shard is one lock and the uses it guards, padded to its own cache line.
type shard struct {
	mu   sync.Mutex
	uses map[string]int64 // token id -> newest use, Unix nanoseconds
	_    [48]byte
}

// Recorder collects token uses in memory and writes them in the background.
// It is safe for concurrent use.
type Recorder struct {
	w        Writer
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	seed     maphash.Seed
	shards   [shardCount]shard

	// flushMu serialises flushes and guards pending and written.
	flushMu sync.Mutex
	// pending holds uses taken from the shards but not yet written because
	// their token was written less than an interval ago, or the write failed.
	pending map[string]int64
	// written is when (by now) each token was last written; entries older
	// than an interval are dropped, so it holds only recent writes.
	written map[string]time.Time
}

// New returns a Recorder that writes through w.
func New(w Writer, opts Options) *Recorder {
	r := &Recorder{
		w:        w,
		interval: opts.Interval,
		now:      opts.Now,
		log:      opts.Logger,
		seed:     maphash.MakeSeed(),
		pending:  map[string]int64{},
		written:  map[string]time.Time{},
	}
	if r.interval <= 0 {
		r.interval = DefaultInterval
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for i := range r.shards {
		r.shards[i].uses = map[string]int64{}
	}
	return r
}

// Seen records that tokenID was used successfully at at. It never blocks on
// disk: it updates one shard of an in-memory table.
func (r *Recorder) Seen(tokenID string, at time.Time) {
	n := at.UnixNano()
	sh := &r.shards[maphash.String(r.seed, tokenID)%shardCount]
	sh.mu.Lock()
	old, ok := sh.uses[tokenID]
	if !ok {
		// The table keeps the id past this call: a copy, so that it does
		// not pin the memory the caller's string points into (the
		// validation index's record chunks, 32 MiB each).
		tokenID = strings.Clone(tokenID)
	}
	if n > old {
		sh.uses[tokenID] = n
	}
	sh.mu.Unlock()
}

// Flush writes, in one commit, the uses of every token not written within
// the last interval, and returns how many tokens it wrote. Uses of tokens
// written more recently stay pending for a later flush. On a write error the
// uses stay pending too.
func (r *Recorder) Flush(ctx context.Context) (int, error) { return r.flush(ctx, false) }

// FlushAll writes every pending use regardless of the interval, in one
// commit. The daemon calls it on graceful shutdown, after the servers that
// call Seen have stopped.
func (r *Recorder) FlushAll(ctx context.Context) (int, error) { return r.flush(ctx, true) }

func (r *Recorder) flush(ctx context.Context, all bool) (int, error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		uses := sh.uses
		if len(uses) == 0 {
			sh.mu.Unlock()
			continue
		}
		sh.uses = make(map[string]int64, len(uses))
		sh.mu.Unlock()
		for id, n := range uses {
			if n > r.pending[id] {
				r.pending[id] = n
			}
		}
	}
	now := r.now()
	for id, at := range r.written {
		if now.Sub(at) >= r.interval {
			delete(r.written, id)
		}
	}
	batch := make(map[string]time.Time)
	for id, n := range r.pending {
		if _, recent := r.written[id]; recent && !all {
			continue
		}
		batch[id] = time.Unix(0, n).UTC()
	}
	if len(batch) == 0 {
		return 0, nil
	}
	if _, err := r.w.RecordUses(ctx, batch); err != nil {
		return 0, err
	}
	for id := range batch {
		delete(r.pending, id)
		r.written[id] = now
	}
	return len(batch), nil
}

// Run flushes every check period (a twelfth of the interval, so a use waits
// at most the interval plus that period) until ctx is done. It does not
// flush on return: the caller decides whether to FlushAll.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.CheckPeriod())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("write last-used times", slog.String("error", err.Error()))
			} else if n > 0 {
				r.log.Debug("wrote last-used times", slog.Int("tokens", n))
			}
		}
	}
}

// CheckPeriod is how often Run looks for uses to write.
func (r *Recorder) CheckPeriod() time.Duration { return r.interval / 12 }
