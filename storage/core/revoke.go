package core

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// RevokeToken revokes the token and its descendants at at for reason and
// returns its record. ErrNotFound if absent or in another workspace.
func (s *Store) RevokeToken(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error) {
	if err := checkPair(workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var named *storagepb.TokenRecord
	out, err := s.revoke(ctx, "", func(r reader) ([]*storagepb.TokenRecord, error) {
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

// RevokeTokens revokes the workspace's listed tokens and their descendants
// at at for reason, and returns those not already revoked by then.
// ErrNotFound, with nothing revoked, if the workspace or any token is not
// there. Repeated ids count once.
func (s *Store) RevokeTokens(ctx context.Context, workspaceID string, tokenIDs []string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	ids, err := storage.RevokeIDs(workspaceID, tokenIDs)
	if err != nil {
		return nil, err
	}
	return s.revoke(ctx, workspaceID, func(r reader) ([]*storagepb.TokenRecord, error) {
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

// RevokeUserTokens revokes the user's tokens in the workspace (a former
// member's too) at at for reason, and returns those not already revoked by
// then. ErrNotFound if the workspace does not exist.
func (s *Store) RevokeUserTokens(ctx context.Context, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	if err := checkPair(workspaceID, "user", userID); err != nil {
		return nil, err
	}
	return s.revoke(ctx, workspaceID, func(r reader) ([]*storagepb.TokenRecord, error) {
		return userTokens(r, workspaceID, userID)
	}, at, reason)
}

// RevokeLeaked revokes at at, as leaked, the tokens whose secret hash is in
// hashes and their descendants (a leaked secret may have been refreshed),
// and returns those not already revoked. A report of no known secret
// writes nothing (nor an OnlyIfRevoked event); with a local, so complete,
// index it costs one probe per secret.
func (s *Store) RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if s.opts.MaxStaleness <= 0 && !slices.ContainsFunc(hashes, s.index().Has) {
		return nil, nil
	}
	return s.revoke(ctx, "", func(r reader) ([]*storagepb.TokenRecord, error) {
		var ids []string
		seen := map[string]bool{}
		for _, h := range hashes {
			id, err := r.get(tokenHashes.raw(h[:]))
			if err != nil {
				return nil, err
			}
			if id != nil && !seen[string(id)] {
				seen[string(id)] = true
				ids = append(ids, string(id))
			}
		}
		return tokensByID(r, ids)
	}, at, pb.RevokeReason_REVOKE_REASON_LEAKED)
}

func userTokens(r reader, workspaceID, userID string) ([]*storagepb.TokenRecord, error) {
	ids, err := userTokenIDs(r, workspaceID, userID)
	if err != nil {
		return nil, err
	}
	return tokensByID(r, ids)
}

// userTokenIDs reads the workspace's token entries, whose values name owners.
func userTokenIDs(r reader, workspaceID, userID string) ([]string, error) {
	var ids []string
	err := r.each(workspaceTokens.children(workspaceID), "", 0, func(k, v []byte) error {
		if bytes.Equal(v, []byte(userID)) {
			ids = append(ids, string(k))
		}
		return nil
	})
	return ids, err
}

// tokensByID reads the records of ids, leaving out those absent.
func tokensByID(r reader, ids []string) ([]*storagepb.TokenRecord, error) {
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

// pickFn finds the records a revocation names; its error refuses it.
type pickFn func(r reader) ([]*storagepb.TokenRecord, error)

// revoke revokes the records pick names and their descendants at at for
// reason, and returns those it changed, with their last use. A missing
// workspace (when not "") or pick's error refuses it. It is one
// transaction if that fits the engine's limits, else split (splitRevoke).
// ctx's audit event names every token it revokes.
func (s *Store) revoke(ctx context.Context, workspaceID string, pick pickFn, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	out, err := updated(ctx, s, func(w writer) ([]*storagepb.TokenRecord, error) {
		recs, err := guardedPick(w.reader, workspaceID, pick)
		if err != nil {
			return nil, reject(err)
		}
		out, err := revokeRecords(w, recs, at, reason, nil)
		storage.NoteRevoked(ctx, out)
		return out, err
	})
	if errors.Is(err, storage.ErrTooLarge) {
		out, err = s.splitRevoke(ctx, workspaceID, pick, at, reason)
	}
	if err != nil {
		return nil, err
	}
	if err := s.withUsed(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// guardedPick checks that the workspace (when not "") exists, then picks
// (unless pick is nil).
func guardedPick(r reader, workspaceID string, pick pickFn) ([]*storagepb.TokenRecord, error) {
	if workspaceID != "" {
		if err := needWorkspace(r, workspaceID); err != nil {
			return nil, err
		}
	}
	if pick == nil {
		return nil, nil
	}
	return pick(r)
}

// revokeRecords is the one place tokens are revoked: each record and its
// descendants, changed in place, each returned once if changed. A later
// scheduled revocation (a grace period) is brought forward to at; a token
// revoked by at keeps its revocation, but its descendants are revoked.
// listed is as in walkFamilies.
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
		return nil, err // callers note out in the event even on error
	}
	return out, nil
}

// revokeRecord revokes rec alone and writes it if that changed it. Only
// revokeRecords and a roll ending its predecessor's grace call it.
func revokeRecord(w writer, rec *storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) (bool, error) {
	if !lifecycle.Revoke(rec.GetToken(), at, reason) {
		return false, nil
	}
	return true, rewriteToken(w, rec)
}

// A family is a token and those that replaced it (roll, refresh), linked
// both ways; a token is replaced at most once, so a family is a chain. The
// sweep deletes oldest first, so the stored ones form an unbroken chain.

// chain returns rec and the stored tokens reached from it by following link
// (replaced_by down, replaces up), in order; it stops at a (corrupt) loop.
func chain(r reader, rec *storagepb.TokenRecord, link func(*pb.Token) string) ([]*storagepb.TokenRecord, error) {
	out := []*storagepb.TokenRecord{rec}
	seen := map[string]bool{rec.Token.TokenId: true}
	for id := link(rec.Token); id != "" && !seen[id]; {
		n, err := tokenByID(r, id)
		if err != nil || n == nil {
			return out, err
		}
		seen[id] = true
		out = append(out, n)
		id = link(n.Token)
	}
	return out, nil
}

func descendants(r reader, rec *storagepb.TokenRecord) ([]*storagepb.TokenRecord, error) {
	return chain(r, rec, (*pb.Token).GetReplacedBy)
}

// walkFamilies calls fn once for each record and each of its descendants.
// listed, when set, is a split decision naming every descendant it
// revokes: the walk follows only a successor it does not name (rolled since).
func walkFamilies(r reader, recs []*storagepb.TokenRecord, listed map[string]bool, fn func(*storagepb.TokenRecord) error) error {
	done := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if done[rec.GetToken().GetTokenId()] {
			continue
		}
		family := []*storagepb.TokenRecord{rec}
		if next := rec.GetToken().GetReplacedBy(); next != "" && !listed[next] {
			var err error
			if family, err = descendants(r, rec); err != nil {
				return err
			}
		}
		for _, c := range family {
			if id := c.GetToken().GetTokenId(); !done[id] {
				done[id] = true
				if err := fn(c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
