package etcd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/storage"
)

// unavailable wraps an etcd client error: a cancelled context stays one, a
// request etcd never takes wraps ErrTooLarge, anything else (no leader, no
// quorum in time, connection refused) ErrUnavailable, with etcd's words.
func unavailable(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		return err
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case isEtcdErr(err, rpctypes.ErrRequestTooLarge, rpctypes.ErrTooManyOps):
		return fmt.Errorf("etcd: %v (raise the members' --max-request-bytes or --max-txn-ops, or change fewer records at once): %w", rpctypes.ErrorDesc(err), storage.ErrTooLarge)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("etcd did not answer in time (is a quorum of its members up?): %w", storage.ErrUnavailable)
	}
	return fmt.Errorf("etcd: %v: %w", rpctypes.ErrorDesc(err), storage.ErrUnavailable)
}

// isEtcdErr reports whether err is one of targets, by description: the
// client rebuilds them from gRPC statuses.
func isEtcdErr(err error, targets ...error) bool {
	return err != nil && slices.ContainsFunc(targets, func(t error) bool { return rpctypes.ErrorDesc(err) == rpctypes.ErrorDesc(t) })
}

// errConflict makes an attempt run again: a compare failed at commit, or a
// read failed in a way another try may not meet.
var errConflict = errors.New("conflict")

func (x *engineTx) readOpts(extra ...clientv3.OpOption) []clientv3.OpOption {
	if x.rev > 0 {
		extra = append(extra, clientv3.WithRev(x.rev))
	}
	return extra
}

// readErr maps a failed read. A read changes nothing, so a compacted or
// transient one reruns the attempt (errConflict) until the deadline.
func (x *engineTx) readErr(err error) error {
	if errors.Is(err, rpctypes.ErrCompacted) || x.ctx.Err() == nil && transientRead(err) {
		return errConflict
	}
	return unavailable(x.ctx, err)
}

// read is a Get at the attempt's revision. The first is linearizable and
// fixes it; later ones are serializable (no round through the leader), as
// no member changes a revision once it has it, unless the member has not
// reached it yet.
func (x *engineTx) read(key string, opts ...clientv3.OpOption) ([]*mvccpb.KeyValue, error) {
	first := x.rev == 0
	opts = x.readOpts(opts...)
	var resp *clientv3.GetResponse
	var err error
	if !first {
		resp, err = x.e.cli.Get(x.ctx, key, append(opts, clientv3.WithSerializable())...)
	}
	if first || isEtcdErr(err, rpctypes.ErrFutureRev) {
		resp, err = x.e.cli.Get(x.ctx, key, opts...)
	}
	if err != nil {
		return nil, x.readErr(err)
	}
	if first {
		x.rev = resp.Header.Revision
	}
	return resp.Kvs, nil
}

// note keeps what a write read of key (nil: absent), to compare at commit.
func (x *engineTx) note(key string, kv *mvccpb.KeyValue) {
	if _, ok := x.reads[key]; !ok && x.reads != nil {
		x.reads[key] = kv
		x.order = append(x.order, key)
	}
}

// list reads up to limit keys of [start, end) (0: all), guarding each
// against change and the range against new keys.
func (x *engineTx) list(start, end string, limit int64, opts ...clientv3.OpOption) ([]*mvccpb.KeyValue, error) {
	kvs, err := x.read(start, append(opts, clientv3.WithRange(end), clientv3.WithLimit(limit))...)
	if err != nil || x.reads == nil {
		return kvs, err
	}
	x.ranges = append(x.ranges, [2]string{start, end})
	for _, kv := range kvs {
		x.note(string(kv.Key), kv)
	}
	return kvs, nil
}

func (x *engineTx) compares() []clientv3.Cmp {
	cmps := make([]clientv3.Cmp, 0, len(x.order)+len(x.ranges))
	for _, k := range x.order {
		var mod int64
		if kv := x.reads[k]; kv != nil {
			mod = kv.ModRevision
		}
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", mod))
	}
	for _, r := range x.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r[0]), "<", x.rev+1).WithRange(r[1]))
	}
	return cmps
}

// backoff sleeps a little longer after each lost race, with jitter.
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

// transientRead reports whether a read failed for a reason another try may
// not meet: a member stopped or lost its leader or connection, an election.
func transientRead(err error) bool {
	msg := err.Error()
	return isEtcdErr(err, rpctypes.ErrStopped, rpctypes.ErrNoLeader, rpctypes.ErrNotCapable, rpctypes.ErrLeaderChanged,
		rpctypes.ErrTimeoutDueToLeaderFail, rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrTimeout) ||
		strings.Contains(msg, "raft: stopped") || strings.Contains(msg, "connection refused") || status.Code(err) == codes.Unavailable
}
