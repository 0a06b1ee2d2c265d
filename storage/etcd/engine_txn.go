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

// errConflict makes an attempt run again: a compare failed at commit, or a
// read saw a revision that is no longer readable.
var errConflict = errors.New("conflict")

// txn is one attempt of a transaction: every key a write reads is
// compared, at commit, against the revision it was read at, and every
// range it lists against keys created or changed since. reads is nil in a
// View, which keeps none.
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

// readErr maps a failed read. A read changes nothing, so one whose
// revision was compacted, or that failed because a member went away or an
// election is under way, reruns the attempt (errConflict) until the
// deadline.
func (t *txn) readErr(err error) error {
	if errors.Is(err, rpctypes.ErrCompacted) || t.ctx.Err() == nil && transientRead(err) {
		return errConflict
	}
	return unavailable(t.ctx, err)
}

// read is a Get at the attempt's revision. The first read is linearizable
// and fixes the revision; later ones read that revision, which no member
// changes once it has it, so any member may answer from its own copy (a
// serializable read: no round through the leader). A member that has not
// reached the revision yet says so, and the read goes the linearizable way.
func (t *txn) read(key string, opts ...clientv3.OpOption) ([]*mvccpb.KeyValue, error) {
	first := t.rev == 0
	opts = t.readOpts(opts...)
	var resp *clientv3.GetResponse
	var err error
	if !first {
		resp, err = t.cli.Get(t.ctx, key, append(opts, clientv3.WithSerializable())...)
	}
	if first || err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(rpctypes.ErrFutureRev) {
		resp, err = t.cli.Get(t.ctx, key, opts...)
	}
	if err != nil {
		return nil, t.readErr(err)
	}
	if first {
		t.rev = resp.Header.Revision
	}
	return resp.Kvs, nil
}

// note keeps what a write read of key (nil: absent), to compare at commit.
func (t *txn) note(key string, kv *mvccpb.KeyValue) {
	if _, ok := t.reads[key]; !ok && t.reads != nil {
		t.reads[key] = kv
		t.order = append(t.order, key)
	}
}

// get reads key at the attempt's revision; nil means absent.
func (t *txn) get(key string) (*mvccpb.KeyValue, error) {
	if kv, ok := t.reads[key]; ok {
		return kv, nil
	}
	kvs, err := t.read(key)
	if err != nil {
		return nil, err
	}
	var kv *mvccpb.KeyValue
	if len(kvs) > 0 {
		kv = kvs[0]
	}
	t.note(key, kv)
	return kv, nil
}

// list reads up to limit keys of [start, end) (all when limit is 0),
// guarding each against change and the range against new keys.
func (t *txn) list(start, end string, limit int64, opts ...clientv3.OpOption) ([]*mvccpb.KeyValue, error) {
	kvs, err := t.read(start, append(opts, clientv3.WithRange(end), clientv3.WithLimit(limit))...)
	if err != nil || t.reads == nil {
		return kvs, err
	}
	t.ranges = append(t.ranges, [2]string{start, end})
	for _, kv := range kvs {
		t.note(string(kv.Key), kv)
	}
	return kvs, nil
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

// transientRead reports whether a read failed for a reason another try
// may not meet: the member stopped, lost its leader or its connection, or
// an election is under way.
func transientRead(err error) bool {
	for _, e := range []error{rpctypes.ErrStopped, rpctypes.ErrNoLeader, rpctypes.ErrNotCapable, rpctypes.ErrLeaderChanged,
		rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrTimeout} {
		if rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(e) {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "raft: stopped") || strings.Contains(msg, "connection refused") || status.Code(err) == codes.Unavailable
}
