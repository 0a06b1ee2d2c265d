package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// A revocation of more tokens than one transaction holds is decided by one
// write: a revocation record (P cleanup/revoke/<random id>) naming the
// tokens it revokes, with the time and the reason. It names them by id
// (RevokeTokens, RevokeLeaked, a long family), or as every token of one
// user in one workspace created before the record (RevokeUserTokens, so
// the record stays small however many tokens the user has). From that
// write on every replica answers LookupToken for those tokens as revoked
// (index.go) and RollToken refuses to roll them; the token records are
// then rewritten in bounded batches and the record deleted. A process that
// dies in between leaves the record, still honoured, and the next start
// finishes it (finishCleanups). So a bulk revocation is all or nothing:
// before the deciding write no token is revoked, after it every one is.

// revokeInOne is the most tokens revoked in one transaction: each costs a
// read (a comparison) and a write, and the audit event needs a few more.
const revokeInOne = maxOps / 4

// revocation is a decided revocation as of at: of the tokens ids, or, when
// user is set, of every token of user in ws created before revision rev
// (the revision of its record).
type revocation struct {
	at       time.Time
	reason   pb.RevokeReason
	ids      map[string]struct{}
	order    []string
	ws, user string
	rev      int64
}

// names reports whether r revokes t, whose record was created at
// revision create.
func (r *revocation) names(t *pb.Token, create int64) bool {
	if r.user != "" {
		return t.GetUserId() == r.user && t.GetWorkspaceId() == r.ws && create < r.rev
	}
	_, ok := r.ids[t.GetTokenId()]
	return ok
}

// encodeRevocation is the value of a revocation record: the time, the
// reason number, the kind, and the token ids or the workspace and user,
// separated by 0x00, which no id holds (storage.CheckID).
func encodeRevocation(r *revocation) string {
	head := r.at.UTC().Format(time.RFC3339Nano) + sep + strconv.Itoa(int(r.reason)) + sep
	if r.user != "" {
		return head + "user" + sep + r.ws + sep + r.user
	}
	return head + "ids" + sep + strings.Join(r.order, sep)
}

// parseRevocation reads a revocation record written at revision rev.
func parseRevocation(v []byte, rev int64) (*revocation, error) {
	parts := strings.Split(string(v), sep)
	if len(parts) < 4 {
		return nil, fmt.Errorf("revocation record has %d fields, want at least 4", len(parts))
	}
	at, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return nil, fmt.Errorf("revocation record time: %w", err)
	}
	reason, err := strconv.Atoi(parts[1])
	if err != nil {
		return nil, fmt.Errorf("revocation record reason: %w", err)
	}
	r := &revocation{at: at, reason: pb.RevokeReason(reason), rev: rev}
	switch kind := parts[2]; {
	case kind == "user" && len(parts) == 5:
		r.ws, r.user = parts[3], parts[4]
	case kind == "ids":
		r.order = parts[3:]
		r.ids = make(map[string]struct{}, len(r.order))
		for _, id := range r.order {
			r.ids[id] = struct{}{}
		}
	default:
		return nil, fmt.Errorf("revocation record of unknown kind %q", kind)
	}
	return r, nil
}

// revokeAll revokes, as of at, the tokens of ids that exist and pass keep,
// with every stored descendant of each, and returns the records it changed.
// guard, when not nil, runs in the deciding transaction (a workspace must
// still exist). The audit event of ctx joins the deciding transaction and
// names every token the call revokes. Up to revokeInOne tokens are revoked
// in that one transaction; more are decided by a revocation record and
// rewritten after it in batches. user, when not empty, says ids are every
// token of user in workspace ws, and the record says so instead of listing
// them.
func (s *Store) revokeAll(ctx context.Context, what string, guard func(*txn) error, ids []string, keep func(*storagepb.TokenRecord) bool, at time.Time, reason pb.RevokeReason, ws, user string) ([]*storagepb.TokenRecord, error) {
	live, err := s.family(ctx, ids, keep, at)
	if err != nil {
		return nil, err
	}
	if len(live) <= revokeInOne {
		var out []*storagepb.TokenRecord
		_, err := s.update(ctx, what, func(x *txn) error {
			out = nil
			if guard != nil {
				if err := guard(x); err != nil {
					return err
				}
			}
			recs, err := s.readIn(x, idsOf(live))
			if err != nil {
				return err
			}
			out, err = s.revokeRecords(x, recs, at, reason)
			storage.NoteRevoked(ctx, out)
			return err
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	key := s.k.revocation(hex.EncodeToString(nonce[:]))
	r := &revocation{at: at, reason: reason, ws: ws, user: user}
	if user == "" {
		r.order = idsOf(live)
	}
	if err := s.revokeHook(-1); err != nil {
		return nil, err
	}
	r.rev, err = s.update(ctx, what, func(x *txn) error {
		if guard != nil {
			if err := guard(x); err != nil {
				return err
			}
		}
		x.putRaw(key, encodeRevocation(r))
		storage.NoteRevoked(ctx, live)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.finishRevocation(ctx, key, r)
}

// finishRevocation rewrites the records a revocation record names, in
// batches, and then deletes the record (only if it is still the one
// written at r.rev).
func (s *Store) finishRevocation(ctx context.Context, key string, r *revocation) ([]*storagepb.TokenRecord, error) {
	ids := r.order
	if r.user != "" {
		var err error
		if ids, err = s.userTokens(ctx, r.ws, r.user, r.rev); err != nil {
			return nil, err
		}
	}
	var out []*storagepb.TokenRecord
	for batch := 0; len(ids) > 0; batch++ {
		if err := s.revokeHook(batch); err != nil {
			return out, err
		}
		part := ids[:min(len(ids), revokeInOne)]
		ids = ids[len(part):]
		var done []*storagepb.TokenRecord
		_, err := s.update(ctx, "revoke tokens", func(x *txn) error {
			recs, err := s.readIn(x, part)
			if err != nil {
				return err
			}
			done, err = s.revokeRecords(x, recs, r.at, r.reason)
			return err
		})
		if err != nil {
			return out, err
		}
		out = append(out, done...)
	}
	dctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
	defer cancel()
	if _, err := s.cli.Txn(dctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", r.rev)).Then(clientv3.OpDelete(key)).Commit(); err != nil {
		return out, unavailable(ctx, err)
	}
	return out, nil
}

// revokeHook lets a test stop a bulk revocation at a step, as a crash
// would: -1 before the deciding write, n before the n-th batch.
func (s *Store) revokeHook(step int) error {
	if s.testRevokeHook == nil {
		return nil
	}
	return s.testRevokeHook(step)
}

// readIn reads the records of ids in x, skipping those that are gone.
func (s *Store) readIn(x *txn, ids []string) ([]*storagepb.TokenRecord, error) {
	var recs []*storagepb.TokenRecord
	for _, id := range ids {
		rec, err := s.tokenByID(x, id)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// family reads the tokens of ids that exist and pass keep, with every
// stored descendant of each, and returns those not revoked by at.
func (s *Store) family(ctx context.Context, ids []string, keep func(*storagepb.TokenRecord) bool, at time.Time) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	seen := map[string]bool{}
	for first := true; len(ids) > 0; first = false {
		recs, err := s.readTokens(ctx, ids)
		if err != nil {
			return nil, err
		}
		ids = nil
		for _, rec := range recs {
			id := rec.GetToken().GetTokenId()
			if seen[id] || first && !keep(rec) {
				continue
			}
			seen[id] = true
			if !lifecycle.RevokedBy(rec.GetToken(), at) {
				out = append(out, rec)
			}
			if next := rec.GetToken().GetReplacedBy(); next != "" && !seen[next] {
				ids = append(ids, next)
			}
		}
	}
	return out, nil
}

// readTokens reads the records of ids that exist, maxOps at a time.
func (s *Store) readTokens(ctx context.Context, ids []string) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	for len(ids) > 0 {
		part := ids[:min(len(ids), maxOps)]
		ids = ids[len(part):]
		ops := make([]clientv3.Op, len(part))
		for i, id := range part {
			ops[i] = clientv3.OpGet(s.k.token(id))
		}
		resp, err := s.rtxn(ctx, ops...)
		if err != nil {
			return nil, unavailable(ctx, err)
		}
		for _, r := range resp.Responses {
			kvs := r.GetResponseRange().GetKvs()
			if len(kvs) == 0 {
				continue
			}
			rec, err := decodeToken(kvs[0].Value)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// pendingIn reads, in x, the revocation records not yet finished; a roll
// that read them fails its comparison if one is written before it commits.
func (s *Store) pendingIn(x *txn) ([]*revocation, error) {
	p := s.k.revocations()
	kvs, err := x.list(p, prefixEnd(p), 0)
	if err != nil {
		return nil, err
	}
	out := make([]*revocation, 0, len(kvs))
	for _, kv := range kvs {
		r, err := parseRevocation(kv.Value, kv.ModRevision)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kv.Key, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// applyPending marks t, whose record was created at revision create,
// revoked as each decided revocation that names it says; it changes t
// only.
func applyPending(t *pb.Token, create int64, pending []*revocation) {
	for _, r := range pending {
		if r.names(t, create) {
			lifecycle.Revoke(t, r.at, r.reason)
		}
	}
}

func idsOf(recs []*storagepb.TokenRecord) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.GetToken().GetTokenId()
	}
	return ids
}
