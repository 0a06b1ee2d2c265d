package etcd

import (
	"context"
	"encoding/binary"

	"go.etcd.io/etcd/api/v3/mvccpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Every audited write appends to one chain, so it compares the chain head
// and, when another write appended first, loses its race and starts over.
// Left to race, N concurrent audited writes of one process cost about N²/2
// attempts: 16 writers managed an eighth of what one did
// (BenchmarkCreateToken). So the audited writes of a process take turns on
// the head: a write holds the turn from staging its event (its change
// already read) to its commit's answer, one etcd round trip. The holder
// uses the head the last commit of this process left, without reading it,
// unless the index's watch has seen a later head (another replica
// appended) or a race was lost since; then it reads the head afresh, at
// the latest revision rather than at that of its other reads, which the
// writes before it have passed.
// Writes of other replicas still race with it, as on any compared read.

// chainTurn is the turn on the audit chain head, with the head this
// process last wrote.
type chainTurn struct {
	// turn holds a value while a write has the turn.
	turn chan struct{}
	// head is the head key as the last audited commit of this process
	// left it; nil when unknown.
	head *mvccpb.KeyValue
}

// acquire waits for the turn, or for ctx to end.
func (c *chainTurn) acquire(ctx context.Context) error {
	select {
	case c.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives the turn up.
func (c *chainTurn) release() { <-c.turn }

// stage puts the chain head into x's reads, so appendAudit uses it and the
// commit compares it: the one this process last wrote, unless seen, the
// mod revision of the head the index last saw, is later; else the head
// read at the latest revision. The turn must be held.
func (c *chainTurn) stage(x *txn, key string, seen int64) error {
	if c.head != nil && seen <= c.head.ModRevision {
		if _, ok := x.reads[key]; !ok {
			x.order = append(x.order, key)
		}
		x.reads[key] = c.head
		return nil
	}
	resp, err := x.cli.Get(x.ctx, key)
	if err != nil {
		return x.noteRev(0, err)
	}
	var kv *mvccpb.KeyValue
	if len(resp.Kvs) > 0 {
		kv = resp.Kvs[0]
	}
	if _, ok := x.reads[key]; !ok {
		x.order = append(x.order, key)
	}
	x.reads[key] = kv
	if x.rev == 0 {
		x.rev = resp.Header.Revision
	}
	return nil
}

// learn records the head ev, committed at revision rev, left. The turn
// must be held.
func (c *chainTurn) learn(ev *pb.AuditEvent, rev int64) {
	v := append(binary.BigEndian.AppendUint64(nil, ev.GetSequence()), ev.GetHash()...)
	c.head = &mvccpb.KeyValue{Value: v, ModRevision: rev}
}

// forget drops the known head after a commit that did not succeed, when
// held says the turn is held.
func (c *chainTurn) forget(held bool) {
	if held {
		c.head = nil
	}
}
