package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// RevokeToken revokes the token at at for reason and, with it, every token
// descended from it (revokeRecords). It returns the token's record after
// the change. ErrNotFound if absent or in another workspace.
func (s *Store) RevokeToken(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error) {
	if err := checkPair("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var named *storagepb.TokenRecord
	out, err := s.revoke(ctx, nil, func(r reader) ([]*storagepb.TokenRecord, error) {
		var err error
		named, err = getToken(r, workspaceID, tokenID)
		return []*storagepb.TokenRecord{named}, err
	}, at, reason)
	if err != nil {
		return nil, err
	}
	for _, rec := range out {
		if rec.GetToken().GetTokenId() == tokenID {
			return rec, nil
		}
	}
	// Revoked before: unchanged.
	if err := s.withUsed(ctx, []*storagepb.TokenRecord{named}); err != nil {
		return nil, err
	}
	return named, nil
}

// RevokeTokens revokes at at, for reason, the listed tokens of the
// workspace and every token descended from them, and returns those it
// revoked (tokens already revoked by at are left as they are and not
// returned). ErrNotFound, with nothing revoked, if the workspace does not
// exist or any id is not one of its tokens. Repeated ids count once.
func (s *Store) RevokeTokens(ctx context.Context, workspaceID string, tokenIDs []string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	ids, err := storage.RevokeIDs(workspaceID, tokenIDs)
	if err != nil {
		return nil, err
	}
	return s.revoke(ctx, workspaceGuard(workspaceID), func(r reader) ([]*storagepb.TokenRecord, error) {
		recs := make([]*storagepb.TokenRecord, len(ids))
		for i, id := range ids {
			rec, err := getToken(r, workspaceID, id)
			if err != nil {
				return nil, err
			}
			recs[i] = rec
		}
		return recs, nil
	}, at, reason)
}

// RevokeUserTokens revokes at at, for reason, every token of the user in
// the workspace not already revoked by then (with their descendants, which
// are the user's too) and returns them. The user need not be a member any
// more. ErrNotFound if the workspace does not exist.
func (s *Store) RevokeUserTokens(ctx context.Context, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	if err := checkPair("workspace", workspaceID, "user", userID); err != nil {
		return nil, err
	}
	return s.revoke(ctx, workspaceGuard(workspaceID), func(r reader) ([]*storagepb.TokenRecord, error) {
		return userTokens(r, workspaceID, userID)
	}, at, reason)
}

// RevokeLeaked revokes at at, with REVOKE_REASON_LEAKED, every token whose
// secret hash is among hashes and every token descended from one (a
// leaked old secret may have been refreshed by whoever holds it), unless
// already revoked by then, and returns them. A report of no known secret
// writes nothing, not even its audit event when that is OnlyIfRevoked;
// when the validation index is local and so complete, such a report costs
// only a probe of it per secret.
func (s *Store) RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if s.opts.MaxStaleness <= 0 {
		known := false
		for _, h := range hashes {
			if s.index().Has(h) {
				known = true
				break
			}
		}
		if !known {
			return nil, nil
		}
	}
	return s.revoke(ctx, nil, func(r reader) ([]*storagepb.TokenRecord, error) {
		var recs []*storagepb.TokenRecord
		seen := map[string]bool{}
		for _, h := range hashes {
			id, err := r.get(tokenHashes.raw(h[:]))
			if err != nil {
				return nil, err
			}
			if id == nil || seen[string(id)] {
				continue
			}
			seen[string(id)] = true
			rec, err := tokenByID(r, string(id))
			if err != nil {
				return nil, err
			}
			if rec != nil {
				recs = append(recs, rec)
			}
		}
		return recs, nil
	}, at, pb.RevokeReason_REVOKE_REASON_LEAKED)
}

// workspaceGuard refuses a revocation in a workspace that does not exist.
func workspaceGuard(workspaceID string) func(r reader) error {
	return func(r reader) error {
		ok, err := r.has(workspaces.key(workspaceID))
		if err == nil && !ok {
			err = fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
		}
		return err
	}
}

// userTokens reads the records of the user's tokens in the workspace,
// through the workspace entries, whose values name each token's owner.
func userTokens(r reader, workspaceID, userID string) ([]*storagepb.TokenRecord, error) {
	ids, err := userTokenIDs(r, workspaceID, userID)
	if err != nil {
		return nil, err
	}
	recs := make([]*storagepb.TokenRecord, 0, len(ids))
	for _, id := range ids {
		rec, err := tokenByID(r, id)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// userTokenIDs returns the ids of the user's tokens in the workspace.
func userTokenIDs(r reader, workspaceID, userID string) ([]string, error) {
	var ids []string
	user := []byte(userID)
	err := r.each(workspaceTokens.children(workspaceID), "", 0, func(k, v []byte) error {
		if bytes.Equal(v, user) {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}

// pickFn finds, in a transaction, the records a revocation names; its
// error refuses the revocation before anything is written.
type pickFn func(r reader) ([]*storagepb.TokenRecord, error)

// revoke revokes at at, for reason, the records pick names and every
// token descended from them, and returns those it changed, with their last
// use. guard (when set) and pick decide before anything is written. It is
// one transaction whenever that fits the engine's limits; a bigger one is
// a decided change, split (splitRevoke). The audit event of ctx names
// every token it revokes.
func (s *Store) revoke(ctx context.Context, guard func(r reader) error, pick pickFn, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	err := s.update(ctx, func(w writer) error {
		out = nil
		if guard != nil {
			if err := guard(w.reader); err != nil {
				return reject(err)
			}
		}
		recs, err := pick(w.reader)
		if err != nil {
			return reject(err)
		}
		out, err = revokeRecords(w, recs, at, reason, nil)
		storage.NoteRevoked(ctx, out)
		return err
	})
	if errors.Is(err, storage.ErrTooLarge) {
		out, err = s.splitRevoke(ctx, guard, pick, at, reason)
	}
	if err != nil {
		return nil, err
	}
	if err := s.withUsed(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// revokeRecords revokes at at, for reason, each record and every token
// descended from it, and returns those it changed, each once. It is the
// one place tokens are revoked: revoke_time is set to at, so a scheduled
// revocation later than at (a grace period) is brought forward, and
// revoke_reason records why. A token already revoked by at keeps its
// revocation, but its descendants are still revoked. The records are
// changed in place. listed is as in walkFamilies.
func revokeRecords(w writer, recs []*storagepb.TokenRecord, at time.Time, reason pb.RevokeReason, listed map[string]bool) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	err := walkFamilies(w.reader, recs, listed, func(r *storagepb.TokenRecord) error {
		changed, err := revokeRecord(w, r, at, reason)
		if changed {
			out = append(out, r)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// revokeRecord revokes rec alone (lifecycle.Revoke) and writes it when
// that changed it. Only revokeRecords, and a roll ending its
// predecessor's grace (which must not stop the tokens that replaced it),
// call it.
func revokeRecord(w writer, rec *storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) (bool, error) {
	if !lifecycle.Revoke(rec.GetToken(), at, reason) {
		return false, nil
	}
	return true, rewriteToken(w, rec)
}
