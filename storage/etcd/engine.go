package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/storage"
)

// EngineOptions tune NewEngine.
type EngineOptions struct {
	// Prefix is put before every key.
	Prefix string
	// MaxAttempts bounds the runs of an Update losing races; 0 means 100.
	MaxAttempts int
	// Limits overrides DefaultEngineLimits field by field, for members run
	// with other --max-txn-ops or --max-request-bytes.
	Limits storage.EngineLimits
	// Progress, when set, is how often a feed asks etcd for a progress
	// mark; a feed silent for twice as long reopens.
	Progress time.Duration
	// Watch, when set, is the client configuration feeds use, one member at
	// a time, moving on when the watch goes silent, so a hung member cannot
	// hold a feed. Nil watches via cli.
	Watch *clientv3.Config
	// Logger receives the feeds' reopenings; nil discards.
	Logger *slog.Logger
}

// DefaultEngineLimits follow etcd's --max-txn-ops 128 (writes and, apart,
// read checks) and --max-request-bytes 1.5 MiB, less 64 KiB for framing.
var DefaultEngineLimits = storage.EngineLimits{MaxOps: 128, MaxBytes: 3<<19 - 64<<10, MaxReads: 128}

// Engine is storage.Engine over an etcd cluster. An Update is optimistic
// (etcd's STM plus range checks): it reads at one revision and commits in
// one Txn only if no key it read or range it listed changed since, else it
// reruns, with backoff, at most MaxAttempts times. Revisions are the
// cluster's: increasing, not dense.
type Engine struct {
	cli       *clientv3.Client
	opts      EngineOptions // defaults filled in
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

var _ storage.Engine = (*Engine)(nil)

// NewEngine returns an engine on cli under opts.Prefix; cli stays the caller's.
func NewEngine(cli *clientv3.Client, opts EngineOptions) *Engine {
	opts.Limits = opts.Limits.Or(DefaultEngineLimits)
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 100
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{cli: cli, opts: opts, done: make(chan struct{})}
}

// Limits reports the engine's per-transaction limits.
func (e *Engine) Limits() storage.EngineLimits { return e.opts.Limits }

// Close ends every feed with ErrClosed; later calls fail with ErrClosed.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { close(e.done) })
	return nil
}

func (e *Engine) check(ctx context.Context) error {
	select {
	case <-e.done:
		return storage.ErrClosed
	default:
		return ctx.Err()
	}
}

// View runs fn with reads at one revision.
func (e *Engine) View(ctx context.Context, fn func(storage.ReadTx) error) error {
	return e.retry(ctx, func() error { return fn(&engineTx{e: e, ctx: clientv3.WithRequireLeader(ctx)}) })
}

// Update runs fn and commits if nothing it read changed, else reruns it.
func (e *Engine) Update(ctx context.Context, fn func(storage.Tx) error) (int64, error) {
	var rev int64 // set only by a commit that succeeded
	err := e.retry(ctx, func() error {
		tx := &engineTx{e: e, ctx: clientv3.WithRequireLeader(ctx), w: storage.NewWriteSet(e.opts.Limits),
			reads: map[string]*mvccpb.KeyValue{}}
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.w.Err(); err != nil {
			return err
		}
		if len(tx.w.Changes()) == 0 {
			return nil // every read was at one revision: nothing to check
		}
		var err error
		rev, err = tx.commit()
		return err
	})
	return rev, err
}

// retry runs try, with backoff, while it returns errConflict (MaxAttempts).
func (e *Engine) retry(ctx context.Context, try func() error) error {
	if err := e.check(ctx); err != nil {
		return err
	}
	for attempt := 0; attempt < e.opts.MaxAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return unavailable(ctx, err) // out of time: say so, as etcd's deadline would
			}
		}
		if err := try(); !errors.Is(err, errConflict) {
			return err
		}
	}
	// Reads rerun when members went away too: if the cluster is now
	// unreachable, that is the error.
	if _, err := e.Revision(ctx); err != nil {
		return err
	}
	return fmt.Errorf("gave up after %d attempts: %w", e.opts.MaxAttempts, storage.ErrConflict)
}

// Revision returns the cluster's current revision.
func (e *Engine) Revision(ctx context.Context) (int64, error) {
	if err := e.check(ctx); err != nil {
		return 0, err
	}
	resp, err := e.cli.Get(clientv3.WithRequireLeader(ctx), e.opts.Prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, unavailable(ctx, err)
	}
	return resp.Header.Revision, nil
}

// engineTx is one attempt of either transaction kind; w is nil in View.
// Its own keys are prefixed, those of the closure are not.
type engineTx struct {
	e   *Engine
	w   *storage.WriteSet
	ctx context.Context
	rev int64 // fixed by the first read
	// reads (nil in a View, like w), order and ranges are what an Update
	// read, to compare at commit.
	reads  map[string]*mvccpb.KeyValue
	order  []string
	ranges [][2]string
}

func (x *engineTx) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, fmt.Errorf("empty key: %w", storage.ErrInvalid)
	}
	if ch, ok := x.w.Lookup(key); ok {
		if ch.Delete {
			return nil, storage.ErrNotFound
		}
		return ch.Value, nil
	}
	name := x.e.opts.Prefix + string(key)
	kv, ok := x.reads[name]
	if !ok {
		kvs, err := x.read(name)
		if err != nil {
			return nil, err
		}
		if len(kvs) > 0 {
			kv = kvs[0]
		}
		x.note(name, kv)
	}
	if err := x.checkReads(); err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, storage.ErrNotFound
	}
	return kv.Value, nil
}

// Prefetch reads the keys not read yet in one round trip, at the attempt's
// revision, leaving those past half of MaxReads to be read when asked.
func (x *engineTx) Prefetch(keys [][]byte) error {
	if x.w == nil {
		return nil
	}
	room := x.e.opts.Limits.MaxReads/2 - len(x.order) - len(x.ranges)
	var ops []clientv3.Op
	var names []string
	for _, k := range keys {
		name := x.e.opts.Prefix + string(k)
		if _, ok := x.reads[name]; ok || slices.Contains(names, name) {
			continue
		}
		if len(ops) >= room {
			break
		}
		ops, names = append(ops, clientv3.OpGet(name, x.readOpts()...)), append(names, name)
	}
	if len(ops) == 0 {
		return nil
	}
	resp, err := x.e.cli.Txn(x.ctx).Then(ops...).Commit()
	if err != nil {
		return x.readErr(err)
	}
	if x.rev == 0 {
		x.rev = resp.Header.Revision
	}
	for i, r := range resp.Responses {
		var kv *mvccpb.KeyValue
		if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
			kv = kvs[0]
		}
		x.note(names[i], kv)
	}
	return nil
}

// checkReads fails an Update that read more than one Txn can check.
func (x *engineTx) checkReads() error {
	if n := len(x.order) + len(x.ranges); x.w != nil && n > x.e.opts.Limits.MaxReads {
		return fmt.Errorf("transaction read %d keys and ranges (limit %d): %w", n, x.e.opts.Limits.MaxReads, storage.ErrTooLarge)
	}
	return nil
}

func (x *engineTx) Range(start, end []byte, limit int, fn func(key, value []byte) error) error {
	return x.rangeKeys(start, end, limit, false, fn)
}

func (x *engineTx) RangeReverse(start, end []byte, limit int, fn func(key, value []byte) error) error {
	return x.rangeKeys(start, end, limit, true, fn)
}

// rangeKeys is Range (RangeReverse when desc) over etcd's keys and own writes.
func (x *engineTx) rangeKeys(start, end []byte, limit int, desc bool, fn func(key, value []byte) error) error {
	before := func(a, b []byte) int {
		if desc {
			return bytes.Compare(b, a)
		}
		return bytes.Compare(a, b)
	}
	pstart, pend := x.e.opts.Prefix+string(start), x.e.opts.Prefix+string(end)
	if end == nil {
		pend = "\x00" // etcd's "no end", for a prefix of 0xff bytes
		if e := storage.PrefixEnd([]byte(x.e.opts.Prefix)); e != nil {
			pend = string(e)
		}
	}
	if pstart == "" {
		pstart = "\x00" // etcd refuses an empty key; "\x00" is the first
	}
	// Own writes in the range replace or hide what etcd holds: fetch as many
	// more keys as they could hide.
	var own []storage.Change
	if x.w != nil {
		for _, ch := range x.w.Changes() {
			if bytes.Compare(ch.Key, start) >= 0 && (end == nil || bytes.Compare(ch.Key, end) < 0) {
				own = append(own, ch)
			}
		}
		slices.SortFunc(own, func(a, b storage.Change) int { return before(a.Key, b.Key) })
	}
	fetch := int64(0)
	if limit > 0 {
		fetch = int64(limit + len(own))
	}
	var opts []clientv3.OpOption
	if desc {
		opts = append(opts, clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	}
	kvs, err := x.list(pstart, pend, fetch, opts...)
	if err != nil {
		return err
	}
	if err := x.checkReads(); err != nil {
		return err
	}
	n := 0
	emit := func(ch storage.Change) (stop bool, err error) {
		switch {
		case ch.Delete:
			return false, nil
		case limit > 0 && n == limit:
			return true, nil
		}
		n++
		return false, fn(ch.Key, ch.Value)
	}
	i := 0
	for _, kv := range kvs {
		k := kv.Key[len(x.e.opts.Prefix):]
		// Own writes up to k, the last of which may replace k.
		replaced := false
		for ; i < len(own) && before(own[i].Key, k) <= 0; i++ {
			replaced = bytes.Equal(own[i].Key, k)
			if stop, err := emit(own[i]); stop || err != nil {
				return err
			}
		}
		if replaced {
			continue
		}
		if stop, err := emit(storage.Change{Key: k, Value: kv.Value}); stop || err != nil {
			return err
		}
	}
	// etcd gave fewer keys than asked, or all: the rest of own follows.
	if fetch == 0 || int64(len(kvs)) < fetch {
		for ; i < len(own); i++ {
			if stop, err := emit(own[i]); stop || err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *engineTx) Put(key, value []byte) error {
	_, err := x.w.Note(key, value, false)
	return err
}

func (x *engineTx) Delete(key []byte) error {
	_, err := x.w.Note(key, nil, true)
	return err
}

// commit sends the writes in one Txn guarded by the reads; errConflict: rerun.
func (x *engineTx) commit() (int64, error) {
	ops := make([]clientv3.Op, 0, len(x.w.Changes()))
	for _, ch := range x.w.Changes() {
		k := x.e.opts.Prefix + string(ch.Key)
		if ch.Delete {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(ch.Value)))
		}
	}
	resp, err := x.e.cli.Txn(x.ctx).If(x.compares()...).Then(ops...).Commit()
	switch {
	case isEtcdErr(err, rpctypes.ErrCompacted):
		return 0, errConflict
	case err != nil:
		return 0, unavailable(x.ctx, err)
	case !resp.Succeeded:
		return 0, errConflict
	}
	return resp.Header.Revision, nil
}
