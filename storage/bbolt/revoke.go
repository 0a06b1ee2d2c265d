package bbolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// RevokeTokens revokes at at, for reason, the listed tokens of the workspace
// and every token descended from them (revokeRecords) in one commit, and
// returns those it revoked (tokens already revoked by at are left as they
// are and not returned). ErrNotFound, with nothing revoked, if the
// workspace does not exist or any id is not one of its tokens. Repeated ids
// count once.
func (s *Store) RevokeTokens(ctx context.Context, workspaceID string, tokenIDs []string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	ids, err := storage.RevokeIDs(workspaceID, tokenIDs)
	if err != nil {
		return nil, err
	}
	var out []*storagepb.TokenRecord
	err = s.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		if tx.Bucket(bucketWorkspaces).Get([]byte(workspaceID)) == nil {
			return reject(fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound))
		}
		recs := make([]*storagepb.TokenRecord, len(ids))
		for i, id := range ids {
			rec, err := getToken(tx, workspaceID, id)
			if err != nil {
				return reject(err)
			}
			recs[i] = rec
		}
		var err error
		out, err = s.revokeRecords(tx, recs, at, reason)
		storage.NoteRevoked(ctx, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeUserTokens revokes at at, for reason, every token of the user in the
// workspace not already revoked by then (with their descendants, which are
// the user's too), in one commit, and returns them.
// The user need not be a member any more. ErrNotFound if the workspace does
// not exist.
func (s *Store) RevokeUserTokens(ctx context.Context, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "user", userID); err != nil {
		return nil, err
	}
	var out []*storagepb.TokenRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		if tx.Bucket(bucketWorkspaces).Get([]byte(workspaceID)) == nil {
			return reject(fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound))
		}
		var err error
		out, err = s.revokeUserTokens(tx, workspaceID, userID, at, reason)
		storage.NoteRevoked(ctx, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeLeaked revokes at at, with REVOKE_REASON_LEAKED, every token whose
// secret hash is among hashes and every token descended from one (a leaked
// old secret may have been refreshed by whoever holds it), unless already
// revoked by then, and returns them. When no hash is a known secret it
// only probes the validation index: an unmatched report writes nothing, not
// even its audit event
// (the server answers reports before they are looked up, so the time this
// takes tells the reporter nothing).
func (s *Store) RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error) {
	// The validation index holds every stored token: a report of unknown
	// secrets costs a table probe per secret, no read transaction.
	known := false
	for _, h := range hashes {
		if s.index.Has(h) {
			known = true
			break
		}
	}
	if !known {
		return nil, ctx.Err()
	}
	var out []*storagepb.TokenRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		index, records := tx.Bucket(bucketTokenHashes), tx.Bucket(bucketTokens)
		var recs []*storagepb.TokenRecord
		seen := map[string]bool{}
		for _, h := range hashes {
			id := index.Get(h[:])
			if id == nil || seen[string(id)] {
				continue
			}
			seen[string(id)] = true
			v := records.Get(id)
			if v == nil {
				continue
			}
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		var err error
		out, err = s.revokeRecords(tx, recs, at, pb.RevokeReason_REVOKE_REASON_LEAKED)
		storage.NoteRevoked(ctx, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// revokeUserTokens revokes the user's tokens in the workspace through the
// workspace_tokens index, whose values name each token's owner.
func (s *Store) revokeUserTokens(tx *bolt.Tx, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	prefix := childPrefix(workspaceID)
	user := []byte(userID)
	var ids [][]byte
	c := tx.Bucket(bucketWorkspaceTokens).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if bytes.Equal(v, user) {
			ids = append(ids, bytes.Clone(k[len(prefix):]))
		}
	}
	records := tx.Bucket(bucketTokens)
	recs := make([]*storagepb.TokenRecord, 0, len(ids))
	for _, id := range ids {
		v := records.Get(id)
		if v == nil {
			continue
		}
		rec, err := decodeToken(v)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return s.revokeRecords(tx, recs, at, reason)
}

// revokeRecords revokes at at, for reason, each record and every token
// descended from it (the tokens that replaced it by roll or refresh, and
// those that replaced them), and returns those it changed, each once. It is
// the one place a token is revoked: revoke_time is set to at, so a
// scheduled revocation later than at (a grace period) is brought forward,
// and revoke_reason records why. A token already revoked by at keeps its
// revocation, but its descendants are still revoked: revoking a rolled
// token whose grace has ended stops the tokens that replaced it. The
// records passed in are changed in place; later entries may be stale if an
// earlier entry's walk already revoked them, and are then skipped.
func (s *Store) revokeRecords(tx *bolt.Tx, recs []*storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	done := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if done[rec.GetToken().GetTokenId()] {
			continue
		}
		chain, err := descendants(tx, rec)
		if err != nil {
			return nil, err
		}
		for _, r := range chain {
			id := r.GetToken().GetTokenId()
			if done[id] {
				continue
			}
			done[id] = true
			changed, err := s.revokeRecord(tx, r, at, reason)
			if err != nil {
				return nil, err
			}
			if changed {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// revokeRecord revokes rec alone (lifecycle.Revoke) and writes it when that
// changed it. Only revokeRecords, and a roll ending its predecessor's grace
// (which must not stop the tokens that replaced it), call it.
func (s *Store) revokeRecord(tx *bolt.Tx, rec *storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) (bool, error) {
	if !lifecycle.Revoke(rec.GetToken(), at, reason) {
		return false, nil
	}
	return true, s.rewriteToken(tx, rec)
}

// rewriteToken stores a changed record of a token that is already stored;
// its index entries stay as they are and it is not counted again. Every
// change to an existing token record goes through here, as new tokens go
// through insertToken and deletions through removeToken (deleteTokens).
// The token's id, workspace, user and secret hash must not have changed:
// the indexes name them.
func (s *Store) rewriteToken(tx *bolt.Tx, rec *storagepb.TokenRecord) error {
	val, err := storage.CheckNewToken(rec)
	if err != nil {
		return err
	}
	id := []byte(rec.GetToken().GetTokenId())
	s.j.token(id, rec.GetSecretHash())
	return tx.Bucket(bucketTokens).Put(id, val)
}
