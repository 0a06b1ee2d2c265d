package etcd

import (
	"context"
	"fmt"
	"time"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// RevokeTokens revokes tokens of one workspace by id. Every id is read at
// one revision first, and a missing one refuses the whole call before
// anything is written; the revocation is then one transaction, or for
// more tokens than one holds one deciding write and bounded batches
// (bulk.go), all or nothing either way.
func (s *Store) RevokeTokens(ctx context.Context, workspaceID string, tokenIDs []string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	ids, err := storage.RevokeIDs(workspaceID, tokenIDs)
	if err != nil {
		return nil, err
	}
	// The check of every id, at one revision.
	_, err = s.update(ctx, "revoke tokens", func(x *txn) error {
		if ok, err := x.exists(s.k.workspace(workspaceID)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
			}
			return err
		}
		for _, id := range ids {
			kv, err := x.get(s.k.token(id))
			if err != nil {
				return err
			}
			if _, err := tokenIn(kv, workspaceID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.revokeAll(ctx, "revoke tokens", s.workspaceGuard(workspaceID), ids, func(rec *storagepb.TokenRecord) bool {
		return rec.GetToken().GetWorkspaceId() == workspaceID
	}, at, reason, "", "")
}

// workspaceGuard is the guard of a revocation within a workspace: the
// workspace still exists when it is decided.
func (s *Store) workspaceGuard(workspaceID string) func(*txn) error {
	return func(x *txn) error {
		ok, err := x.exists(s.k.workspace(workspaceID))
		if err == nil && !ok {
			err = fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
		}
		return err
	}
}

// revokeByKey revokes the tokens of ids that still exist and pass keep, in
// bounded transactions, and returns the records it revoked. It is the
// clean-up of a decision already made (a member removed), so it need not
// be all or nothing; revokeAll is for revocations that are the decision.
//
// The audit event of ctx, if any, joins the first transaction and names
// every token the call revokes: those of the first batch and the others
// that were live when it started.
func (s *Store) revokeByKey(ctx context.Context, ids []string, keep func(*storagepb.TokenRecord) bool, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	const size = maxOps / 4 // each token may bring its rolled descendants
	var later []*storagepb.TokenRecord
	if audit.FromContext(ctx).Draft() != nil && len(ids) > size {
		var err error
		if later, err = s.liveTokens(ctx, ids[size:], keep, at); err != nil {
			return nil, err
		}
	}
	var out []*storagepb.TokenRecord
	first := true
	for len(ids) > 0 {
		batch := ids[:min(len(ids), size)]
		ids = ids[len(batch):]
		var done []*storagepb.TokenRecord
		_, err := s.update(ctx, "revoke tokens", func(x *txn) error {
			var recs []*storagepb.TokenRecord
			for _, id := range batch {
				kv, err := x.get(s.k.token(id))
				if err != nil {
					return err
				}
				if kv == nil {
					continue
				}
				rec, err := decodeToken(kv.Value)
				if err != nil {
					return err
				}
				if keep(rec) {
					recs = append(recs, rec)
				}
			}
			var err error
			done, err = s.revokeRecords(x, recs, at, reason)
			if first {
				storage.NoteRevoked(ctx, append(append([]*storagepb.TokenRecord(nil), done...), later...))
			}
			return err
		})
		if err != nil {
			return out, err
		}
		first = false
		out = append(out, done...)
	}
	return out, nil
}

// RevokeUserTokens revokes every token of a user in a workspace, all or
// nothing (bulk.go).
func (s *Store) RevokeUserTokens(ctx context.Context, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "user", userID); err != nil {
		return nil, err
	}
	kv, err := s.get(ctx, s.k.workspace(workspaceID))
	if err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
	}
	ids, err := s.userTokens(ctx, workspaceID, userID, 0)
	if err != nil {
		return nil, err
	}
	return s.revokeAll(ctx, "revoke user tokens", s.workspaceGuard(workspaceID), ids, func(*storagepb.TokenRecord) bool { return true }, at, reason, workspaceID, userID)
}

// userTokens returns the ids of a user's tokens in a workspace, created
// before revision before (all when 0).
func (s *Store) userTokens(ctx context.Context, workspaceID, userID string, before int64) ([]string, error) {
	prefix := s.k.wsTokens(workspaceID)
	start, end := prefix, prefixEnd(prefix)
	var ids []string
	for {
		resp, err := s.rget(ctx, start, rangeOpts(end, 1000)...)
		if err != nil {
			return nil, unavailable(ctx, err)
		}
		for _, kv := range resp.Kvs {
			if string(kv.Value) == userID && (before == 0 || kv.CreateRevision < before) {
				ids = append(ids, string(kv.Key[len(prefix):]))
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return ids, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// RevokeLeaked revokes the tokens whose secret hashes are given, whatever
// their workspace, and returns those it revoked; unknown hashes are
// skipped, and a report with no known hash writes nothing.
func (s *Store) RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for len(hashes) > 0 {
		batch := hashes[:min(len(hashes), maxOps)]
		hashes = hashes[len(batch):]
		found, err := s.lookupHashes(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		// An unmatched report writes nothing, not even its audit event.
		return nil, nil
	}
	return s.revokeAll(ctx, "revoke leaked tokens", nil, ids, func(*storagepb.TokenRecord) bool { return true }, at, pb.RevokeReason_REVOKE_REASON_LEAKED, "", "")
}

// liveTokens reads the records of ids that exist, pass keep and are not
// revoked by at.
func (s *Store) liveTokens(ctx context.Context, ids []string, keep func(*storagepb.TokenRecord) bool, at time.Time) ([]*storagepb.TokenRecord, error) {
	recs, err := s.readTokens(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, rec := range recs {
		if keep(rec) && !lifecycle.RevokedBy(rec.GetToken(), at) {
			out = append(out, rec)
		}
	}
	return out, nil
}
