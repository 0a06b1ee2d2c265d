package etcd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/storage"
)

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
	switch rpctypes.ErrorDesc(err) {
	case rpctypes.ErrorDesc(rpctypes.ErrRequestTooLarge), rpctypes.ErrorDesc(rpctypes.ErrTooManyOps):
		return fmt.Errorf("etcd: %v (raise the members' --max-request-bytes or --max-txn-ops, or change fewer records at once): %w", rpctypes.ErrorDesc(err), storage.ErrTooLarge)
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
	if err != nil && t.ctx.Err() == nil && transientRead(err) {
		// A read changes nothing, so one that failed because a member
		// went away or an election is under way is tried again from
		// scratch, until the write's deadline.
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

// read is a Get at the attempt's revision. The first read of an attempt
// is linearizable and fixes the revision; the later ones read that
// revision, which no member changes once it has it, so any member may
// answer from its own copy (a serializable read: no round through the
// leader). A member that has not reached the revision yet says so, and
// the read goes the linearizable way.
func (t *txn) read(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if t.rev == 0 {
		return t.cli.Get(t.ctx, key, opts...)
	}
	resp, err := t.cli.Get(t.ctx, key, append(t.readOpts(opts...), clientv3.WithSerializable())...)
	if err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(rpctypes.ErrFutureRev) {
		return t.cli.Get(t.ctx, key, t.readOpts(opts...)...)
	}
	return resp, err
}

// get reads key at the attempt's revision; nil means absent.
func (t *txn) get(key string) (*mvccpb.KeyValue, error) {
	if kv, ok := t.reads[key]; ok {
		return kv, nil
	}
	resp, err := t.read(key)
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

// list reads up to limit keys of [start, end) (all when limit is 0),
// guarding each against change and the range against new keys.
func (t *txn) list(start, end string, limit int64, opts ...clientv3.OpOption) ([]*mvccpb.KeyValue, error) {
	opts = append(opts, clientv3.WithRange(end), clientv3.WithLimit(limit))
	resp, err := t.read(start, opts...)
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

// notApplied reports whether a failed commit certainly changed nothing: the
// member refused it before proposing it to raft.
// transientRead reports whether a read failed for a reason another try
// may not meet: the member stopped, lost its leader or its connection, or
// an election is under way.
func transientRead(err error) bool {
	if notApplied(err) {
		return true
	}
	for _, e := range []error{rpctypes.ErrLeaderChanged, rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrTimeout} {
		if rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(e) {
			return true
		}
	}
	return status.Code(err) == codes.Unavailable
}

func notApplied(err error) bool {
	for _, e := range []error{rpctypes.ErrStopped, rpctypes.ErrNoLeader, rpctypes.ErrNotCapable} {
		if rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(e) {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "raft: stopped") || strings.Contains(msg, "connection refused")
}

// prefixEnd is the first key after every key starting with p ("\x00",
// etcd's "no end", when there is none).
func prefixEnd(p string) string {
	if end := storage.PrefixEnd([]byte(p)); end != nil {
		return string(end)
	}
	return "\x00"
}
