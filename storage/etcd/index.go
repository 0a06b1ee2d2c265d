package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// entry is one key of the index: its value and create revision.
type entry struct {
	val    []byte
	create int64
}

// index is this replica's in-memory copy of what validation reads: the
// secret-hash index, token records, members, workspaces and zoos. It is
// loaded at start and kept current by a watch; validation reads it without
// a network round trip.
type index struct {
	k keys

	mu sync.RWMutex
	m  map[string]entry
	// pending are the decided revocations not yet written to every
	// record, by the key of their record (bulk.go).
	pending map[string]*revocation
	rev     int64     // every change up to rev is applied
	heard   time.Time // when etcd last confirmed rev is current
	moved   chan struct{}
}

func newIndex(k keys) *index {
	return &index{k: k, m: map[string]entry{}, pending: map[string]*revocation{}, moved: make(chan struct{})}
}

// indexed reports whether key belongs in the index.
func (x *index) indexed(key string) bool {
	rest, ok := strings.CutPrefix(key, x.k.p)
	if !ok {
		return false
	}
	for _, p := range []string{"hash/", "token/", "member/", "ws/", "zoo/", "cleanup/revoke/"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}

// load replaces the index with a consistent listing of the prefix, paged,
// and returns its revision.
func (x *index) load(ctx context.Context, cli *clientv3.Client) (int64, error) {
	m := map[string]entry{}
	pending := map[string]*revocation{}
	end := prefixEnd(x.k.p)
	start := x.k.p
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(1000)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := cli.Get(ctx, start, opts...)
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			switch {
			case strings.HasPrefix(k, x.k.revocations()):
				notePending(pending, k, kv.Value, kv.ModRevision)
			case x.indexed(k):
				m[k] = entry{val: kv.Value, create: kv.CreateRevision}
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	x.mu.Lock()
	x.m, x.pending = m, pending
	x.advanceLocked(rev)
	x.mu.Unlock()
	return rev, nil
}

// apply applies the events of one watch response and moves to its revision.
func (x *index) apply(events []*clientv3.Event, rev int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, ev := range events {
		k := string(ev.Kv.Key)
		if !x.indexed(k) {
			continue
		}
		if strings.HasPrefix(k, x.k.revocations()) {
			delete(x.pending, k)
			if ev.Type != mvccpb.DELETE {
				notePending(x.pending, k, ev.Kv.Value, ev.Kv.ModRevision)
			}
			continue
		}
		if ev.Type == mvccpb.DELETE {
			delete(x.m, k)
		} else {
			x.m[k] = entry{val: ev.Kv.Value, create: ev.Kv.CreateRevision}
		}
	}
	x.advanceLocked(rev)
}

// notePending adds the revocation record k to pending. A record that does
// not parse (written by a newer build) is kept as revoking nothing here;
// finishCleanups reports it at the next start.
func notePending(pending map[string]*revocation, k string, v []byte, rev int64) {
	if r, err := parseRevocation(v, rev); err == nil {
		pending[k] = r
	}
}

func (x *index) advanceLocked(rev int64) {
	x.heard = time.Now()
	if rev > x.rev {
		x.rev = rev
		close(x.moved)
		x.moved = make(chan struct{})
	}
}

// lag is how long ago etcd last confirmed the index current.
func (x *index) lag() time.Duration {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return time.Since(x.heard)
}

// waitFor waits until the index has applied rev, at most max.
func (x *index) waitFor(ctx context.Context, rev int64, max time.Duration) bool {
	timer := time.NewTimer(max)
	defer timer.Stop()
	for {
		x.mu.RLock()
		cur, moved := x.rev, x.moved
		x.mu.RUnlock()
		if cur >= rev {
			return true
		}
		select {
		case <-moved:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// follow keeps the index current from rev: a watch with progress
// notifications asked for every quarter of MaxStaleness, re-listing after
// a compaction or a broken watch. The watch requires a leader, so a
// replica connected to a member cut off from the quorum loses it, stops
// hearing progress and, after MaxStaleness, reads through.
func (s *Store) follow(ctx context.Context, rev int64) {
	defer close(s.done)
	every := min(s.maxStale/4, 500*time.Millisecond)
	for turn := 0; ctx.Err() == nil; turn++ {
		if rev == 0 {
			lctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.maxStale)
			r, err := s.idx.load(lctx, s.cli)
			cancel()
			if err != nil {
				s.log.Warn("etcd: re-listing the validation index failed; retrying", slog.String("error", err.Error()))
				sleep(ctx, 100*time.Millisecond)
				continue
			}
			s.log.Info("etcd: validation index re-listed", slog.Int64("revision", r))
			rev = r
		}
		rev = s.watchVia(ctx, turn, rev, every)
	}
}

// watchVia runs one watch through the store's client, or through a client
// of the turn-th member (in rotation) when Options.Watch is set.
func (s *Store) watchVia(ctx context.Context, turn int, rev int64, every time.Duration) int64 {
	if s.watchCfg == nil || len(s.watchCfg.Endpoints) == 0 {
		return s.watch(ctx, s.cli, rev, every)
	}
	cfg := *s.watchCfg
	cfg.Endpoints = []string{s.watchCfg.Endpoints[turn%len(s.watchCfg.Endpoints)]}
	cli, err := clientv3.New(cfg)
	if err != nil {
		s.log.Warn("etcd: watch client", slog.String("endpoint", cfg.Endpoints[0]), slog.String("error", err.Error()))
		sleep(ctx, 50*time.Millisecond)
		return rev
	}
	// Closing a connection to a hung member can itself hang.
	defer func() { go func() { _ = cli.Close() }() }()
	return s.watch(ctx, cli, rev, every)
}

// watch follows changes after rev until the watch ends; it returns the
// revision to resume from, or 0 when the index must be re-listed.
func (s *Store) watch(ctx context.Context, cli *clientv3.Client, rev int64, every time.Duration) int64 {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// The watch starts at rev itself, not rev+1: etcd sends no progress
	// notification to a watch of a revision it has not reached, and the
	// events of rev, applied again, change nothing.
	// Watch itself waits until its stream is open, which on a member that
	// is down never happens; it is opened aside so the silence check below
	// also covers a watch that never started, and the deferred cancel
	// releases it.
	opened := make(chan clientv3.WatchChan, 1)
	go func() {
		opened <- cli.Watch(wctx, s.k.p, clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithProgressNotify())
	}()
	var wch clientv3.WatchChan // nil, so never ready, until opened
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return rev
		case wch = <-opened:
		case <-tick.C:
			// A watch on a member that stopped answering stays open;
			// one silent for half the bound is replaced, which the
			// client opens on a member that answers.
			if silent := time.Since(last); silent > s.maxStale/2 {
				s.log.Warn("etcd: watch silent; reopening", slog.Duration("silent", silent))
				return rev
			}
			// A request on a hung stream blocks; the silence check
			// must not wait for it.
			if wch != nil {
				go func() { _ = cli.RequestProgress(wctx) }()
			}
		case resp, ok := <-wch:
			if !ok {
				return rev
			}
			if resp.CompactRevision != 0 {
				s.log.Warn("etcd: watch fell behind a compaction; re-listing", slog.Int64("compact_revision", resp.CompactRevision))
				return 0
			}
			if err := resp.Err(); err != nil {
				s.log.Warn("etcd: watch broke; resuming", slog.String("error", err.Error()))
				sleep(ctx, 50*time.Millisecond)
				return rev
			}
			last = time.Now()
			s.idx.apply(resp.Events, resp.Header.Revision)
			if resp.Header.Revision > rev {
				rev = resp.Header.Revision
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// view is what validation needs of one key: the index's copy when it is
// current, etcd's otherwise.
type view func(ctx context.Context, key string) (entry, bool, error)

func (s *Store) reader() view {
	v, _ := s.readerFresh()
	return v
}

// readerFresh is reader, and whether it reads the index (true) or etcd.
func (s *Store) readerFresh() (view, bool) {
	if s.idx.lag() <= s.maxStale {
		return func(_ context.Context, key string) (entry, bool, error) {
			s.idx.mu.RLock()
			e, ok := s.idx.m[key]
			s.idx.mu.RUnlock()
			return e, ok, nil
		}, true
	}
	return func(ctx context.Context, key string) (entry, bool, error) {
		ctx, cancel := context.WithTimeout(ctx, s.maxStale)
		defer cancel()
		kv, err := s.get(ctx, key)
		if err != nil || kv == nil {
			return entry{}, false, err
		}
		return entry{val: kv.Value, create: kv.CreateRevision}, true, nil
	}, false
}

// overlayPending marks t, whose record was created at revision create,
// revoked as each decided revocation the index knows of says. Reads other
// than validation use it, so they too show a decided revocation at once.
func (s *Store) overlayPending(t *pb.Token, create int64) {
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	for _, r := range s.idx.pending {
		if r.names(t, create) {
			lifecycle.Revoke(t, r.at, r.reason)
		}
	}
}

// revokePending marks t, whose record was created at revision create,
// revoked if a decided revocation not yet written to its record names it:
// from the index when fresh, from etcd otherwise.
func (s *Store) revokePending(ctx context.Context, t *pb.Token, create int64, fresh bool) error {
	if fresh {
		s.overlayPending(t, create)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.maxStale)
	defer cancel()
	resp, err := s.rget(ctx, s.k.revocations(), clientv3.WithPrefix())
	if err != nil {
		return unavailable(ctx, err)
	}
	for _, kv := range resp.Kvs {
		if r, err := parseRevocation(kv.Value, kv.ModRevision); err == nil {
			applyPending(t, create, []*revocation{r})
		}
	}
	return nil
}

// LookupToken finds a token by the SHA-256 of its secret, from the index
// (or etcd while the index lags). member is true only while the token's
// member and workspace records exist and are older than the token, so a
// removed member's tokens are refused from the moment of the removal, even
// while their revocation is still being written.
func (s *Store) LookupToken(ctx context.Context, secretHash [32]byte) (*storagepb.TokenRecord, bool, error) {
	rec, member, _, err := s.LookupTokenWithPolicy(ctx, secretHash)
	return rec, member, err
}

// LookupTokenWithPolicy is LookupToken with the token policy of the
// token's workspace (nil: none), read from the same view.
func (s *Store) LookupTokenWithPolicy(ctx context.Context, secretHash [32]byte) (*storagepb.TokenRecord, bool, *pb.TokenPolicy, error) {
	if err := s.check(ctx); err != nil {
		return nil, false, nil, err
	}
	read, fresh := s.readerFresh()
	h, ok, err := read(ctx, s.k.hash(secretHash[:]))
	if err != nil {
		return nil, false, nil, err
	}
	if !ok {
		return nil, false, nil, fmt.Errorf("token by secret: %w", storage.ErrNotFound)
	}
	te, ok, err := read(ctx, s.k.token(string(h.val)))
	if err != nil {
		return nil, false, nil, err
	}
	if !ok {
		return nil, false, nil, fmt.Errorf("token %q by secret: %w", h.val, storage.ErrNotFound)
	}
	rec, err := decodeToken(te.val)
	if err != nil {
		return nil, false, nil, err
	}
	t := rec.Token
	if err := s.revokePending(ctx, t, te.create, fresh); err != nil {
		return nil, false, nil, err
	}
	member := true
	var policy *pb.TokenPolicy
	for _, key := range []string{s.k.workspace(t.WorkspaceId), s.k.member(t.WorkspaceId, t.UserId)} {
		e, ok, err := read(ctx, key)
		if err != nil {
			return nil, false, nil, err
		}
		if !ok || e.create >= te.create {
			member = false
		}
		if ok && key == s.k.workspace(t.WorkspaceId) {
			ws, err := decode[pb.Workspace](e.val)
			if err != nil {
				return nil, false, nil, err
			}
			policy = ws.GetTokenPolicy()
		}
	}
	return rec, member, policy, nil
}

// GetZoo returns a zoo from the index (or etcd while the index lags); the
// access decision reads it.
func (s *Store) GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if err := checkIDs("workspace", workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	e, ok, err := s.reader()(ctx, s.k.zoo(workspaceID, zooID))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound)
	}
	return decode[pb.Zoo](e.val)
}

func decode[T any, P interface {
	*T
	proto.Message
}](v []byte) (P, error) {
	m := P(new(T))
	if err := proto.Unmarshal(v, m); err != nil {
		return nil, fmt.Errorf("decode %T: %w", m, err)
	}
	return m, nil
}

func decodeToken(v []byte) (*storagepb.TokenRecord, error) {
	rec, err := decode[storagepb.TokenRecord](v)
	if err != nil {
		return nil, err
	}
	if rec.Token == nil {
		return nil, fmt.Errorf("stored token record has no token")
	}
	return rec, nil
}

func checkIDs(kind1, id1, kind2, id2 string) error {
	if err := storage.CheckID(kind1, id1); err != nil {
		return err
	}
	return storage.CheckID(kind2, id2)
}
