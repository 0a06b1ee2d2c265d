package etcd

import (
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/storage"
)

// Changes follows etcd's watch of the prefix from revision after+1, with
// progress notifications (delivered as empty batches). etcd sends all the
// events of one revision in one response, so each Txn is one batch.
func (e *Engine) Changes(ctx context.Context, after int64) (<-chan storage.ChangeBatch, error) {
	if err := e.check(ctx); err != nil {
		return nil, err
	}
	if after > 0 {
		// Fail at once, not in the stream, when after is already gone.
		_, err := e.cli.Get(clientv3.WithRequireLeader(ctx), e.prefix, clientv3.WithRev(after), clientv3.WithCountOnly())
		switch {
		case err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(rpctypes.ErrCompacted):
			return nil, fmt.Errorf("changes after revision %d: %w", after, storage.ErrCompacted)
		case err != nil && rpctypes.ErrorDesc(err) != rpctypes.ErrorDesc(rpctypes.ErrFutureRev):
			return nil, unavailable(ctx, err)
		}
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := e.cli.Watch(wctx, e.prefix, clientv3.WithPrefix(), clientv3.WithRev(after+1), clientv3.WithProgressNotify())
	out := make(chan storage.ChangeBatch, 16)
	go e.feed(ctx, wctx, cancel, wch, after, out)
	return out, nil
}

func (e *Engine) feed(ctx, wctx context.Context, cancel context.CancelFunc, wch clientv3.WatchChan, last int64, out chan<- storage.ChangeBatch) {
	defer close(out)
	defer cancel()
	send := func(b storage.ChangeBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	fail := func(err error) {
		if ctx.Err() == nil {
			send(storage.ChangeBatch{Revision: last, Err: err})
		}
	}
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-wch:
		case <-e.done:
			fail(storage.ErrClosed)
			return
		}
		switch {
		case !ok && ctx.Err() != nil:
			return
		case !ok:
			fail(fmt.Errorf("etcd watch ended: %w", storage.ErrUnavailable))
			return
		case resp.CompactRevision != 0:
			fail(fmt.Errorf("changes after revision %d: compacted at %d: %w", last, resp.CompactRevision, storage.ErrCompacted))
			return
		case resp.Err() != nil:
			fail(unavailable(wctx, resp.Err()))
			return
		case resp.IsProgressNotify():
			if resp.Header.Revision > last && !send(storage.ChangeBatch{Revision: resp.Header.Revision}) {
				return
			}
			last = max(last, resp.Header.Revision)
			continue
		}
		for _, b := range e.group(resp.Events) {
			if !send(b) {
				return
			}
			last = b.Revision
		}
	}
}

// group turns a response's events into one batch per revision, keys
// without the prefix.
func (e *Engine) group(events []*clientv3.Event) []storage.ChangeBatch {
	var out []storage.ChangeBatch
	for _, ev := range events {
		rev := ev.Kv.ModRevision
		if len(out) == 0 || out[len(out)-1].Revision != rev {
			out = append(out, storage.ChangeBatch{Revision: rev})
		}
		c := storage.Change{Key: ev.Kv.Key[len(e.prefix):], Delete: ev.Type == mvccpb.DELETE}
		if !c.Delete {
			c.Value = ev.Kv.Value
		}
		b := &out[len(out)-1]
		b.Changes = append(b.Changes, c)
	}
	return out
}
