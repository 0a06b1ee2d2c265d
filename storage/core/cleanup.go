package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// A change past the engine's Limits is split here and nowhere else. Its
// first transaction writes a marker under cleanup/ holding the decision,
// with the part that takes effect at once and the audit event naming every
// token it revokes. Later transactions apply the rest in chunks, each first
// checking the marker (another process may have finished it); the last
// deletes it. A process that stops in between leaves the marker to the next
// Open (finishCleanups) or to any process's FinishStale. A revocation whose
// decision outgrows a transaction is decided in parts (splitRevoke); a
// member's removal is not, so its event must fit one (about 50,000 tokens
// on etcd's default limits).
//
//	cleanup/revoke/<random>          time, reason and the ids of the tokens to revoke
//	cleanup/member/<ws> 0x00 <user>  time and nonce: the member's tokens are to be revoked
//	cleanup/workspace/<ws>           nonce: what the deleted workspace held is to be deleted
//
// Validation, rolls, GetToken and lists treat the tokens a revocation
// marker names as revoked from when the marker reaches the index
// (decided.go); a removed member's and a deleted workspace's fail at once
// anyway. How it can hurt you: a marker left by a stopped process waits a
// minute or two for FinishStale (on the daemon), and a member or workspace
// cannot be added again while its marker exists (ErrUnavailable): the rest
// of the old change would reach the new one.
const (
	revokeCleanups    kind = "cleanup/revoke/"
	memberCleanups    kind = "cleanup/member/"
	workspaceCleanups kind = "cleanup/workspace/"
)

// perTxn is how many items, each of ops writes and reads reads, one
// transaction of a split change takes: half the engine's limits, leaving
// room for a marker, an audit event and the rest of the group commit.
func (s *Store) perTxn(ops, reads int) int {
	l := s.e.Limits()
	n := 1 << 20
	if l.MaxOps > 0 {
		n = l.MaxOps / 2 / ops
	}
	if l.MaxReads > 0 {
		n = min(n, l.MaxReads/2/reads)
	}
	return max(n, 1)
}

// chunkHookKey carries a test's function run before each chunk of a split
// change (export_test.go); its error stops the change as a crash would.
type chunkHookKey struct{}

// nonce tells one decision from another.
func nonce() ([]byte, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random marker: %w", err)
	}
	return b, nil
}

// finish applies the rest of a decided change: step(w, i) applies chunk i
// and reports whether more follow, once marker is checked to hold value;
// the last deletes it. The caller giving up does not stop it (Close does).
// step may run more than once per chunk: it assigns its results by i.
func (s *Store) finish(ctx context.Context, marker, value []byte, step func(w writer, i int) (more bool, err error)) error {
	ctx = audit.Without(context.WithoutCancel(ctx))
	hook, ok := ctx.Value(chunkHookKey{}).(func(int) error)
	for i := 0; ; i++ {
		if ok {
			if err := hook(i); err != nil {
				return err
			}
		}
		more := false
		err := s.update(ctx, func(w writer) error {
			more = false
			v, err := w.get(marker)
			if err != nil || !bytes.Equal(v, value) {
				return err // nil when another process finished it
			}
			if more, err = step(w, i); err != nil || more {
				return err
			}
			return w.del(marker)
		})
		if err != nil {
			return fmt.Errorf("finish %s: %w", strings.TrimPrefix(string(marker), string(cleanups)), err)
		}
		if !more {
			return nil
		}
	}
}

// decision is a split revocation: the tokens to revoke, when and why.
type decision struct {
	at     time.Time
	reason pb.RevokeReason
	ids    []string
}

// encode is a revocation marker's value: unix nanoseconds (8 bytes), the
// reason (4 bytes), then the ids separated by 0x00, which no id holds.
func (d decision) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(d.at.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, uint32(d.reason))
	return append(b, strings.Join(d.ids, sep)...)
}

func decodeDecision(v []byte) (decision, error) {
	if len(v) < 12 {
		return decision{}, fmt.Errorf("revocation marker of %d bytes", len(v))
	}
	d := decision{at: decodeTime(v), reason: pb.RevokeReason(binary.BigEndian.Uint32(v[8:]))}
	if len(v) > 12 {
		d.ids = strings.Split(string(v[12:]), sep)
	}
	return d, nil
}

// splitRevoke is revoke past one transaction: it reads what it changes,
// decides it with a marker and the event naming all of it, then finishes.
// A decision too big for one transaction (its marker and events past half
// the engine's MaxBytes: tens of thousands of tokens on etcd) is made in
// parts, each decided and finished in turn, whose events continue the
// first's; one stopped half-way leaves the later parts undecided.
func (s *Store) splitRevoke(ctx context.Context, workspaceID string, pick pickFn, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	live, err := viewed(ctx, s, func(r reader) (live []*storagepb.TokenRecord, err error) {
		recs, err := guardedPick(r, workspaceID, pick)
		if err != nil {
			return nil, err
		}
		err = walkFamilies(r, recs, nil, func(c *storagepb.TokenRecord) error {
			if !lifecycle.RevokedBy(c.GetToken(), at) {
				live = append(live, c)
			}
			return nil
		})
		return live, err
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(live))
	for i, rec := range live {
		ids[i] = rec.GetToken().GetTokenId()
	}
	var out []*storagepb.TokenRecord
	for i, part := range s.decisionParts(ids) {
		id, err := nonce()
		if err != nil {
			return nil, err
		}
		d := decision{at: at, reason: reason, ids: part}
		marker, value := revokeCleanups.key(hex.EncodeToString(id)), d.encode()
		err = s.update(ctx, func(w writer) error {
			if _, err := guardedPick(w.reader, workspaceID, nil); err != nil {
				return reject(err)
			}
			if i == 0 {
				storage.NoteRevoked(ctx, live[:len(part)])
			} else if err := s.continueEvent(ctx, w, part); err != nil {
				return err
			}
			if len(part) == 0 {
				return nil // nothing to revoke: only the event, if any
			}
			return w.put(marker, value)
		})
		if err != nil || len(part) == 0 {
			return nil, err
		}
		done, err := s.finishRevoking(ctx, marker, value, part, at, reason, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, done...)
	}
	return out, nil
}

// decisionParts cuts ids into parts whose marker and events (about twice
// the ids' bytes) each take at most half the engine's MaxBytes, leaving the
// rest to the events' other fields and the group commit's other writes.
func (s *Store) decisionParts(ids []string) [][]string {
	limit := s.e.Limits().MaxBytes
	if limit <= 0 {
		return [][]string{ids}
	}
	budget := max(limit/2-2<<10, limit/4)
	var parts [][]string
	lo, n := 0, 0
	for i, id := range ids {
		n += 2*len(id) + 3
		if n > budget && i > lo {
			parts = append(parts, ids[lo:i])
			lo, n = i, 2*len(id)+3
		}
	}
	return append(parts, ids[lo:])
}

// continueEvent appends to w's transaction events continuing ctx's
// recorded event (a split decision's first part's) that name ids.
func (s *Store) continueEvent(ctx context.Context, w writer, ids []string) error {
	first := audit.FromContext(ctx).Recorded()
	if first == nil {
		return nil
	}
	ev := proto.CloneOf(first)
	ev.Sequence, ev.PrevHash, ev.Hash = 0, nil, nil
	ev.RevokedTokenIds = slices.Clone(ids)
	for _, e := range append([]*pb.AuditEvent{ev}, storage.SplitRevoked(ev, s.opts.IDsPerEvent)...) {
		if err := appendAudit(w, e, &s.auditClock); err != nil {
			return err
		}
	}
	return nil
}

// finishRevoking revokes in chunks the tokens of ids that keep accepts
// (nil: all), with any successor rolled since, and returns those it changed.
func (s *Store) finishRevoking(ctx context.Context, marker, value []byte, ids []string, at time.Time, reason pb.RevokeReason, keep func(*pb.Token) bool) ([]*storagepb.TokenRecord, error) {
	listed := make(map[string]bool, len(ids))
	for _, id := range ids {
		listed[id] = true
	}
	per := s.perTxn(1, 1)
	var done [][]*storagepb.TokenRecord
	err := s.finish(ctx, marker, value, func(w writer, i int) (bool, error) {
		lo, hi := min(i*per, len(ids)), min((i+1)*per, len(ids))
		recs, err := tokensByID(w.reader, ids[lo:hi])
		if err != nil {
			return false, err
		}
		if keep != nil {
			recs = slices.DeleteFunc(recs, func(rec *storagepb.TokenRecord) bool { return !keep(rec.Token) })
		}
		changed, err := revokeRecords(w, recs, at, reason, listed)
		if err != nil {
			return false, err
		}
		done = append(done[:i], changed)
		return hi < len(ids), nil
	})
	return slices.Concat(done...), err
}

// finishMember revokes in chunks the tokens of the removed member and
// returns how many. None can be added or rolled meanwhile: not a member.
func (s *Store) finishMember(ctx context.Context, marker, value []byte, workspaceID, userID string, at time.Time) (int, error) {
	ctx = context.WithoutCancel(ctx)
	ids, err := viewed(ctx, s, func(r reader) ([]string, error) { return userTokenIDs(r, workspaceID, userID) })
	if err != nil {
		return 0, err
	}
	done, err := s.finishRevoking(ctx, marker, value, ids, at, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED, func(t *pb.Token) bool {
		return t.WorkspaceId == workspaceID && t.UserId == userID
	})
	return len(done), err
}

// finishWorkspace deletes in chunks what a deleted workspace still holds.
func (s *Store) finishWorkspace(ctx context.Context, marker, value []byte, workspaceID string) error {
	perKey := s.perTxn(1, 1)
	perToken := s.perTxn(6, 4) // deleteToken: up to six deletes, four reads
	return s.finish(ctx, marker, value, func(w writer, _ int) (bool, error) {
		again := fmt.Errorf("workspace %q was created again before its deletion was finished", workspaceID)
		if err := w.expect(workspaces.key(workspaceID), false, again); err != nil {
			return false, err
		}
		return clearWorkspace(w, workspaceID, perKey, perToken)
	})
}

// finishCleanups finishes every change a stopped process left. Open calls it.
func (s *Store) finishCleanups(ctx context.Context) error {
	all, err := s.markers(ctx)
	if err != nil {
		return err
	}
	_, err = s.finishAll(ctx, all)
	return err
}

// FinishStale finishes the split changes whose markers its previous call
// saw too, and reports how many: on a shared engine the process that left
// one may never open the store again (the daemon calls it every minute).
// A change still under way is then finished twice, harmlessly.
func (s *Store) FinishStale(ctx context.Context) (int, error) {
	all, err := s.markers(ctx)
	if err != nil {
		return 0, err
	}
	s.markersMu.Lock()
	seen := s.markersSeen
	s.markersSeen = map[string]bool{}
	for _, p := range all {
		s.markersSeen[string(p.k)] = true
	}
	s.markersMu.Unlock()
	return s.finishAll(ctx, slices.DeleteFunc(all, func(p kv) bool { return !seen[string(p.k)] }))
}

// markers reads the markers of every split change not yet finished.
func (s *Store) markers(ctx context.Context) ([]kv, error) {
	all, err := viewed(ctx, s, func(r reader) (all []kv, err error) {
		err = r.each(cleanups.all(), "", 0, func(k, v []byte) error {
			all = append(all, kv{append(cleanups.all(), k...), bytes.Clone(v)})
			return nil
		})
		return all, err
	})
	if err != nil {
		return nil, fmt.Errorf("read unfinished changes: %w", err)
	}
	return all, nil
}

// finishAll finishes the split changes of markers and reports how many.
func (s *Store) finishAll(ctx context.Context, markers []kv) (int, error) {
	for i, m := range markers {
		if err := s.finishOne(ctx, m.k, m.v); err != nil {
			return i, err
		}
	}
	return len(markers), nil
}

// finishOne finishes the split change of one marker.
func (s *Store) finishOne(ctx context.Context, key, value []byte) error {
	switch {
	case hasKind(key, revokeCleanups):
		d, err := decodeDecision(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		done, err := s.finishRevoking(ctx, key, value, d.ids, d.at, d.reason, nil)
		if err != nil {
			return err
		}
		s.log.Info("finished a revocation of many tokens", "revoked", len(done))
	case hasKind(key, memberCleanups):
		ws, user, ok := memberCleanups.pair(key)
		if !ok || len(value) < 8 {
			return fmt.Errorf("malformed member marker %q", key)
		}
		n, err := s.finishMember(ctx, key, value, ws, user, decodeTime(value))
		if err != nil {
			return err
		}
		s.log.Info("finished revoking the tokens of a removed member", "workspace", ws, "user", user, "revoked", n)
	case hasKind(key, workspaceCleanups):
		ws := string(key[len(workspaceCleanups):])
		if err := s.finishWorkspace(ctx, key, value, ws); err != nil {
			return err
		}
		s.log.Info("finished deleting a workspace", "workspace", ws)
	default:
		s.log.Warn("unknown marker of an unfinished change; left alone", "key", string(key))
	}
	return nil
}
