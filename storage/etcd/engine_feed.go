package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/storage"
)

// Changes follows etcd's watch of the prefix, one batch per Txn and
// progress marks as empty batches. A watch that breaks or goes silent is
// reopened (on the next member with EngineOptions.Watch) from the last
// revision delivered; the feed ends only with ctx, Close (ErrClosed) or a
// compaction (ErrCompacted).
func (e *Engine) Changes(ctx context.Context, after int64) (<-chan storage.ChangeBatch, error) {
	if err := e.check(ctx); err != nil {
		return nil, err
	}
	if after > 0 {
		// Fail now, not in the stream, when after is already gone.
		_, err := e.cli.Get(clientv3.WithRequireLeader(ctx), e.opts.Prefix, clientv3.WithRev(after), clientv3.WithCountOnly())
		switch {
		case isEtcdErr(err, rpctypes.ErrCompacted):
			return nil, fmt.Errorf("changes after revision %d: %w", after, storage.ErrCompacted)
		case err != nil && !isEtcdErr(err, rpctypes.ErrFutureRev):
			return nil, unavailable(ctx, err)
		}
	}
	out := make(chan storage.ChangeBatch, 16)
	go e.follow(ctx, after, out)
	return out, nil
}

// errReopen ends one watch that is to be reopened.
var errReopen = errors.New("reopen the watch")

// follow runs watches one after another until one ends the feed.
func (e *Engine) follow(ctx context.Context, last int64, out chan<- storage.ChangeBatch) {
	defer close(out)
	for turn := 0; ; turn++ {
		cli, release := e.watchClient(turn)
		err := e.watch(ctx, cli, &last, out)
		release()
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errReopen) {
			send(ctx, out, storage.ChangeBatch{Revision: last, Err: err})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// send delivers b unless ctx ends first, reporting whether it did.
func send(ctx context.Context, out chan<- storage.ChangeBatch, b storage.ChangeBatch) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// watchClient is the client of a feed's turn-th watch: cli, or one
// member's in rotation when EngineOptions.Watch is set.
func (e *Engine) watchClient(turn int) (*clientv3.Client, func()) {
	if e.opts.Watch == nil || len(e.opts.Watch.Endpoints) == 0 {
		return e.cli, func() {}
	}
	cfg := *e.opts.Watch
	cfg.Endpoints = []string{e.opts.Watch.Endpoints[turn%len(e.opts.Watch.Endpoints)]}
	cli, err := clientv3.New(cfg)
	if err != nil {
		e.opts.Logger.Warn("etcd: watch client", slog.String("endpoint", cfg.Endpoints[0]), slog.String("error", err.Error()))
		return e.cli, func() {}
	}
	// Closing a connection to a hung member can itself hang.
	return cli, func() { go func() { _ = cli.Close() }() }
}

// watch delivers the changes after *last until the watch ends, moving
// *last; errReopen when it broke or went silent.
func (e *Engine) watch(ctx context.Context, cli *clientv3.Client, last *int64, out chan<- storage.ChangeBatch) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// The watch starts at *last itself (its events skipped): etcd sends no
	// progress mark for a revision it has not reached. It is opened aside,
	// as Watch blocks forever on a member that is down.
	opened := make(chan clientv3.WatchChan, 1)
	go func() {
		opened <- cli.Watch(wctx, e.opts.Prefix, clientv3.WithPrefix(), clientv3.WithRev(max(*last, 1)), clientv3.WithProgressNotify())
	}()
	var wch clientv3.WatchChan // nil, so never ready, until opened
	var tick <-chan time.Time
	if e.opts.Progress > 0 {
		t := time.NewTicker(e.opts.Progress)
		defer t.Stop()
		tick = t.C
	}
	heard := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.done:
			return storage.ErrClosed
		case wch = <-opened:
		case <-tick:
			if silent := time.Since(heard); silent > 2*e.opts.Progress {
				e.opts.Logger.Warn("etcd: watch silent; reopening", slog.Duration("silent", silent))
				return errReopen
			}
			// A request on a hung stream blocks: not in this loop.
			if wch != nil {
				go func() { _ = cli.RequestProgress(wctx) }()
			}
		case resp, ok := <-wch:
			switch {
			case !ok:
				return errReopen
			case resp.CompactRevision != 0:
				return fmt.Errorf("changes after revision %d: compacted at %d: %w", *last, resp.CompactRevision, storage.ErrCompacted)
			case resp.Err() != nil:
				e.opts.Logger.Warn("etcd: watch broke; reopening", slog.String("error", resp.Err().Error()))
				return errReopen
			}
			heard = time.Now()
			// A mark goes out even if the revision has not moved: the
			// consumer's staleness bound needs to hear a quiet prefix.
			batches := []storage.ChangeBatch{{Revision: max(*last, resp.Header.Revision)}}
			if !resp.IsProgressNotify() {
				batches = e.group(resp.Events, *last)
			}
			for _, b := range batches {
				if !send(ctx, out, b) {
					return ctx.Err()
				}
				*last = b.Revision
			}
		}
	}
}

// group makes one batch per revision of the events after after, unprefixed.
func (e *Engine) group(events []*clientv3.Event, after int64) []storage.ChangeBatch {
	var out []storage.ChangeBatch
	for _, ev := range events {
		rev := ev.Kv.ModRevision
		if rev <= after {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Revision != rev {
			out = append(out, storage.ChangeBatch{Revision: rev})
		}
		c := storage.Change{Key: ev.Kv.Key[len(e.opts.Prefix):], Delete: ev.Type == mvccpb.DELETE}
		if !c.Delete {
			c.Value = ev.Kv.Value
		}
		b := &out[len(out)-1]
		b.Changes = append(b.Changes, c)
	}
	return out
}
