package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// schemaVersion is the key layout this build reads and writes (keys.go).
const schemaVersion = 1

// maxOps bounds the operations (and the comparisons) of one transaction,
// under etcd's default --max-txn-ops of 128.
const maxOps = 120

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Prefix starts every key; "" means DefaultPrefix.
	Prefix string
	// MaxStaleness bounds how long the validation index is trusted
	// without word from etcd; 0 means DefaultMaxStaleness.
	MaxStaleness time.Duration
	// WriteTimeout bounds one write, retries included; 0 means 5s. A
	// cluster without a quorum fails writes with storage.ErrUnavailable
	// after it.
	WriteTimeout time.Duration
	// Logger receives the index's re-lists and lags; nil discards.
	Logger *slog.Logger
	// Watch, when set, is the client configuration the index's watch
	// uses: one member at a time, moving to the next when the watch goes
	// silent, so a member that hangs (alive to TCP, dead to raft) cannot
	// hold the index. Nil watches through the store's client.
	Watch *clientv3.Config
}

// Store keeps the token authority's state in etcd. It is safe for
// concurrent use; many Stores (one per replica) may share one prefix.
type Store struct {
	cli          *clientv3.Client
	ownClient    bool
	k            keys
	maxStale     time.Duration
	writeTimeout time.Duration
	log          *slog.Logger
	idx          *index
	watchCfg     *clientv3.Config

	// testRevokeHook, set by tests only, stops a bulk revocation at a
	// step as a crash would (bulk.go).
	testRevokeHook func(step int) error

	closed atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
}

// Open connects to the cluster described by cfg and opens the store on it.
// The client is closed by Close.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	cc, err := cfg.ClientConfig()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	s, err := OpenClient(ctx, cli, Options{Prefix: cfg.Prefix, MaxStaleness: cfg.MaxStaleness, WriteTimeout: cfg.WriteTimeout, Logger: log, Watch: &cc})
	if err != nil {
		_ = cli.Close()
		return nil, err
	}
	s.ownClient = true
	return s, nil
}

// OpenClient opens the store on an existing client: it records the schema
// version (refusing a newer one), loads the validation index, starts the
// watch that keeps it current and finishes clean-ups an earlier process
// left unfinished. The client stays the caller's.
func OpenClient(ctx context.Context, cli *clientv3.Client, opts Options) (*Store, error) {
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	s := &Store{
		cli:          cli,
		k:            keys{p: prefix},
		maxStale:     opts.MaxStaleness,
		writeTimeout: opts.WriteTimeout,
		log:          opts.Logger,
		watchCfg:     opts.Watch,
		done:         make(chan struct{}),
	}
	if s.maxStale <= 0 {
		s.maxStale = DefaultMaxStaleness
	}
	if s.writeTimeout <= 0 {
		s.writeTimeout = 5 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.initSchema(ctx); err != nil {
		return nil, err
	}
	s.idx = newIndex(s.k)
	rev, err := s.idx.load(ctx, cli)
	if err != nil {
		return nil, fmt.Errorf("load validation index: %w", unavailable(ctx, err))
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(wctx, rev)
	if err := s.finishCleanups(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) initSchema(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	key := s.k.schema()
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, strconv.Itoa(schemaVersion))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return fmt.Errorf("open etcd store at %s: %w", s.k.p, unavailable(ctx, err))
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 0 {
		return fmt.Errorf("open etcd store at %s: schema version vanished", s.k.p)
	}
	got, err := strconv.Atoi(string(kvs[0].Value))
	if err != nil || got < 1 {
		return fmt.Errorf("open etcd store at %s: unknown schema version %q", s.k.p, kvs[0].Value)
	}
	if got > schemaVersion {
		return fmt.Errorf("etcd store at %s has schema version %d, this build supports up to %d: %w", s.k.p, got, schemaVersion, storage.ErrSchemaTooNew)
	}
	return nil
}

// Close stops the watch and, when Open made the client, closes it. Later
// calls return storage.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return storage.ErrClosed
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	if s.ownClient {
		return s.cli.Close()
	}
	return nil
}

// Ping reports whether the store can serve: the validation index must be
// current within MaxStaleness (a replica whose index lags serves
// validation by reading through to etcd, and reports it here so a load
// balancer can prefer the others) and etcd must answer a read.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if lag := s.idx.lag(); lag > s.maxStale {
		return fmt.Errorf("validation index has not heard from etcd for %v (bound %v); validation reads through to etcd: %w",
			lag.Round(time.Millisecond), s.maxStale, storage.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.maxStale)
	defer cancel()
	if _, err := s.cli.Get(ctx, s.k.schema()); err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

// Counts returns how many token records and workspaces are stored.
func (s *Store) Counts(ctx context.Context) (tokens, workspaces int, err error) {
	if s.closed.Load() {
		return 0, 0, storage.ErrClosed
	}
	resp, err := s.rtxn(ctx,
		clientv3.OpGet(s.k.tokens(), clientv3.WithPrefix(), clientv3.WithCountOnly()),
		clientv3.OpGet(s.k.workspaces(), clientv3.WithPrefix(), clientv3.WithCountOnly()),
	)
	if err != nil {
		return 0, 0, unavailable(ctx, err)
	}
	return int(resp.Responses[0].GetResponseRange().Count), int(resp.Responses[1].GetResponseRange().Count), nil
}

// unavailable wraps an etcd client error. A context the caller cancelled
// stays a context error; anything else (no leader, no quorum within the
// deadline, connection refused) wraps storage.ErrUnavailable with etcd's
// words as the detail.
func unavailable(ctx context.Context, err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("etcd did not answer in time (is a quorum of its members up?): %w", storage.ErrUnavailable)
	}
	return fmt.Errorf("etcd: %v: %w", rpctypes.ErrorDesc(err), storage.ErrUnavailable)
}

// errConflict makes update try again: a read of the attempt saw a revision
// that is no longer readable.
var errConflict = errors.New("conflict")

// txn is one attempt of a write: every key it reads is compared, at commit,
// against the revision it was read at, and every range it lists against
// keys created or changed since. A transaction whose comparisons fail lost
// a race and is tried again from scratch.
type txn struct {
	ctx    context.Context
	cli    *clientv3.Client
	rev    int64
	reads  map[string]*mvccpb.KeyValue
	order  []string
	ranges [][2]string
	ops    []clientv3.Op
}

func (t *txn) readOpts(extra ...clientv3.OpOption) []clientv3.OpOption {
	if t.rev > 0 {
		extra = append(extra, clientv3.WithRev(t.rev))
	}
	return extra
}

func (t *txn) noteRev(h int64, err error) error {
	if errors.Is(err, rpctypes.ErrCompacted) {
		return errConflict
	}
	if err != nil {
		return unavailable(t.ctx, err)
	}
	if t.rev == 0 {
		t.rev = h
	}
	return nil
}

// get reads key at the attempt's revision; nil means absent.
func (t *txn) get(key string) (*mvccpb.KeyValue, error) {
	if kv, ok := t.reads[key]; ok {
		return kv, nil
	}
	resp, err := t.cli.Get(t.ctx, key, t.readOpts()...)
	var h int64
	if resp != nil {
		h = resp.Header.Revision
	}
	if err := t.noteRev(h, err); err != nil {
		return nil, err
	}
	var kv *mvccpb.KeyValue
	if len(resp.Kvs) > 0 {
		kv = resp.Kvs[0]
	}
	t.reads[key] = kv
	t.order = append(t.order, key)
	return kv, nil
}

// exists reports whether key is present.
func (t *txn) exists(key string) (bool, error) {
	kv, err := t.get(key)
	return kv != nil, err
}

// list reads up to limit keys of [start, end) (all when limit is 0),
// guarding each against change and the range against new keys.
func (t *txn) list(start, end string, limit int64, opts ...clientv3.OpOption) ([]*mvccpb.KeyValue, error) {
	opts = append(opts, clientv3.WithRange(end), clientv3.WithLimit(limit))
	resp, err := t.cli.Get(t.ctx, start, t.readOpts(opts...)...)
	var h int64
	if resp != nil {
		h = resp.Header.Revision
	}
	if err := t.noteRev(h, err); err != nil {
		return nil, err
	}
	t.ranges = append(t.ranges, [2]string{start, end})
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		if _, ok := t.reads[k]; !ok {
			t.reads[k] = kv
			t.order = append(t.order, k)
		}
	}
	return resp.Kvs, nil
}

// put stages a write of m under key.
func (t *txn) put(key string, m proto.Message) error {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %T: %w", m, err)
	}
	t.ops = append(t.ops, clientv3.OpPut(key, string(v)))
	return nil
}

func (t *txn) putRaw(key, v string) { t.ops = append(t.ops, clientv3.OpPut(key, v)) }
func (t *txn) del(key string)       { t.ops = append(t.ops, clientv3.OpDelete(key)) }
func (t *txn) delPrefix(p string) {
	t.ops = append(t.ops, clientv3.OpDelete(p, clientv3.WithRange(prefixEnd(p))))
}

func (t *txn) compares() []clientv3.Cmp {
	cmps := make([]clientv3.Cmp, 0, len(t.order)+len(t.ranges))
	for _, k := range t.order {
		var mod int64
		if kv := t.reads[k]; kv != nil {
			mod = kv.ModRevision
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", mod))
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r[0]), "<", t.rev+1).WithRange(r[1]))
	}
	return cmps
}

// update runs fn until its reads are still current at commit, then waits
// (at most MaxStaleness) for this replica's index to see the write, so a
// validation on the same replica right after it sees it. fn must start
// from scratch on every call. An error from fn is returned as it is.
func (s *Store) update(ctx context.Context, what string, fn func(*txn) error) (int64, error) {
	if s.closed.Load() {
		return 0, storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	wctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
	defer cancel()
	pending := audit.FromContext(ctx)
	for attempt := 0; ; attempt++ {
		t := &txn{ctx: wctx, cli: s.cli, reads: map[string]*mvccpb.KeyValue{}}
		err := fn(t)
		var ev *pb.AuditEvent
		if err == nil && pending.Draft() != nil {
			// The event joins the change's transaction, drafted after
			// the change (which may name what it revoked). The chain
			// head is compared like every read, so audited writes of
			// all replicas append one after another.
			ev = pending.Draft()
			err = s.appendAudit(t, ev)
		}
		if errors.Is(err, errConflict) {
			if err := backoff(wctx, attempt); err != nil {
				return 0, fmt.Errorf("%s: %w", what, unavailable(wctx, err))
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		if len(t.ops) == 0 {
			return t.rev, nil
		}
		cmps := t.compares()
		if len(cmps) > maxOps || len(t.ops) > maxOps {
			return 0, fmt.Errorf("%s: %d comparisons and %d operations exceed one transaction", what, len(cmps), len(t.ops))
		}
		resp, err := s.cli.Txn(wctx).If(cmps...).Then(t.ops...).Commit()
		if err != nil && notApplied(err) {
			// The member refused before proposing (it stopped, or has no
			// leader): nothing was written, and another member may
			// take it.
			if berr := backoff(wctx, attempt); berr != nil {
				return 0, fmt.Errorf("%s: %w", what, unavailable(wctx, err))
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, unavailable(wctx, err))
		}
		if resp.Succeeded {
			if ev != nil {
				pending.Done(ev)
			}
			s.idx.waitFor(ctx, resp.Header.Revision, s.maxStale)
			return resp.Header.Revision, nil
		}
		if err := backoff(wctx, attempt); err != nil {
			return 0, fmt.Errorf("%s: gave up after %d lost races: %w", what, attempt+1, unavailable(wctx, err))
		}
	}
}

// backoff sleeps a little longer after each lost race, with jitter so
// racing writers spread out.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(min(attempt+1, 25)) * time.Millisecond
	d = d/2 + rand.N(d)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// closedErr is the error of a read on a closed store.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return ctx.Err()
}

// get is a linearizable single-key read outside a write; nil means absent.
func (s *Store) get(ctx context.Context, key string) (*mvccpb.KeyValue, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	resp, err := s.rget(ctx, key)
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return resp.Kvs[0], nil
}

// rget is a read outside a write, bounded like a write: it fails fast on a
// member without a leader and after WriteTimeout without a quorum.
func (s *Store) rget(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
	defer cancel()
	return s.cli.Get(ctx, key, opts...)
}

// rtxn runs read operations at one revision, bounded like rget.
func (s *Store) rtxn(ctx context.Context, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
	defer cancel()
	return s.cli.Txn(ctx).Then(ops...).Commit()
}

// notApplied reports whether a failed commit certainly changed nothing: the
// member refused it before proposing it to raft.
func notApplied(err error) bool {
	for _, e := range []error{rpctypes.ErrStopped, rpctypes.ErrNoLeader, rpctypes.ErrNotCapable} {
		if rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(e) {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "raft: stopped") || strings.Contains(msg, "connection refused")
}
