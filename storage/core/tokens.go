package core

import (
	"bytes"
	"context"
	"fmt"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// CreateToken stores a new token in one commit, with, given a seed, the
// parked seed and the link that deletes it with the token. ErrNotFound
// without the workspace, ErrNotMember if the user is not a member,
// ErrAlreadyExists if the token id, secret hash or seed hash is taken.
func (s *Store) CreateToken(ctx context.Context, rec *storagepb.TokenRecord, seed *storage.SeedPark) error {
	val, err := storage.CheckNewToken(rec)
	if err != nil {
		return err
	}
	t := rec.Token
	keys := [][]byte{workspaces.key(t.WorkspaceId), members.key(t.WorkspaceId, t.UserId), tokens.key(t.TokenId), tokenHashes.raw(rec.SecretHash)}
	var seedKey, seedVal []byte
	if seed != nil {
		if seed.Record == nil {
			return fmt.Errorf("token %q: nil seed record: %w", t.TokenId, storage.ErrInvalid)
		}
		if seedVal, err = encode(seed.Record); err != nil {
			return err
		}
		seedKey = seeds.raw(seed.Hash[:])
		keys = append(keys, seedKey)
	}
	return s.updateReading(ctx, keys, func(w writer) error {
		if err := checkTokenFree(w.reader, t, rec.SecretHash); err != nil {
			return reject(err)
		}
		if seed != nil {
			taken := fmt.Errorf("token %q: seed: %w", t.TokenId, storage.ErrAlreadyExists)
			if err := w.expect(seedKey, false, taken); err != nil {
				return reject(err)
			}
		}
		if err := insertToken(w, t, rec.SecretHash, val); err != nil || seed == nil {
			return err
		}
		if err := w.put(seedKey, seedVal); err != nil {
			return err
		}
		return w.put(seedOf.key(t.TokenId), seed.Hash[:])
	})
}

// GetToken returns the token's record with its last use; ErrNotFound if
// absent or in another workspace.
func (s *Store) GetToken(ctx context.Context, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	if err := checkPair(workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	return viewed(ctx, s, func(r reader) (*storagepb.TokenRecord, error) {
		rec, err := getToken(r, workspaceID, tokenID)
		if err != nil {
			return nil, err
		}
		s.feed.decided.overlay(rec.Token)
		return rec, mergeUsed(r, rec)
	})
}

// ListTokens is ListTokensMatching leaving out, unless includeRevoked,
// tokens revoked by now.
func (s *Store) ListTokens(ctx context.Context, workspaceID, before string, limit int, includeRevoked bool, now time.Time) ([]*storagepb.TokenRecord, error) {
	return s.ListTokensMatching(ctx, workspaceID, before, limit, func(t *pb.Token) bool {
		return includeRevoked || !lifecycle.RevokedBy(t, now)
	})
}

// listPage is how many workspace entries a list reads at a time.
const listPage = 128

// ListTokensMatching returns, newest first, the workspace's tokens with ids
// less than before ("": all) that match (nil: all), at most limit (<= 0:
// all), with their last use; ErrNotFound without the workspace. A filter
// that matches little may walk the whole workspace; match runs inside a
// read transaction, so it must be quick and never call the Store.
func (s *Store) ListTokensMatching(ctx context.Context, workspaceID, before string, limit int, match func(*pb.Token) bool) ([]*storagepb.TokenRecord, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	prefix := workspaceTokens.children(workspaceID)
	return viewed(ctx, s, func(r reader) ([]*storagepb.TokenRecord, error) {
		if err := needWorkspace(r, workspaceID); err != nil {
			return nil, err
		}
		var out []*storagepb.TokenRecord
		for cursor := before; ; {
			var ids []string
			err := r.eachReverse(prefix, cursor, listPage, func(k, _ []byte) error {
				ids = append(ids, string(k))
				return nil
			})
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				rec, err := tokenByID(r, id)
				if err != nil {
					return nil, err
				}
				if rec == nil {
					return nil, fmt.Errorf("token %q indexed in workspace %q but missing", id, workspaceID)
				}
				s.feed.decided.overlay(rec.Token)
				if match != nil && !match(rec.GetToken()) {
					continue
				}
				if err := mergeUsed(r, rec); err != nil {
					return nil, err
				}
				out = append(out, rec)
				if limit > 0 && len(out) >= limit {
					return out, nil
				}
			}
			if len(ids) < listPage {
				return out, nil
			}
			cursor = ids[len(ids)-1]
		}
	})
}

// UpdateToken changes a token in one commit: change edits it in place,
// given the workspace's token policy, or refuses with an error (nothing
// written); it may run more than once, each time on a fresh copy. A
// revoked token is refused (lifecycle.ErrRevoked) before change runs; a
// flip of disabled carries to every descendant; the id, workspace, user,
// family links and revocation cannot change (ErrInvalid). It returns the
// record with its last use; ErrNotFound if absent or in another workspace.
func (s *Store) UpdateToken(ctx context.Context, workspaceID, tokenID string, now time.Time, change func(t *pb.Token, p *pb.TokenPolicy) error) (*storagepb.TokenRecord, error) {
	if err := checkPair(workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	return updated(ctx, s, func(w writer) (*storagepb.TokenRecord, error) {
		rec, err := getToken(w.reader, workspaceID, tokenID)
		if err != nil {
			return nil, reject(err)
		}
		if err := lifecycle.Changeable(rec.Token, now); err != nil {
			return nil, reject(err)
		}
		policy, err := tokenPolicy(w.reader, workspaceID)
		if err != nil {
			return nil, reject(err)
		}
		flipped, err := storage.ChangeToken(rec.Token, policy, change)
		if err != nil {
			return nil, reject(err)
		}
		chain := []*storagepb.TokenRecord{rec}
		if flipped {
			if chain, err = descendants(w.reader, rec); err != nil {
				return nil, reject(err)
			}
			for _, r := range chain[1:] {
				r.Token.Disabled = rec.Token.Disabled
			}
		}
		for _, r := range chain {
			if err := rewriteToken(w, r); err != nil {
				return nil, err
			}
		}
		return rec, mergeUsed(w.reader, rec)
	})
}

// checkTokenFree checks that t may be stored: its workspace exists, its
// user is a member, its id and secret hash are unused. Errors are made
// only on failure: this runs inside the commit of every create.
func checkTokenFree(r reader, t *pb.Token, secretHash []byte) error {
	for _, c := range []struct {
		key  []byte
		want bool
		err  func() error
	}{
		{workspaces.key(t.WorkspaceId), true, func() error { return fmt.Errorf("workspace %q: %w", t.WorkspaceId, storage.ErrNotFound) }},
		{members.key(t.WorkspaceId, t.UserId), true, func() error {
			return fmt.Errorf("user %q in workspace %q: %w", t.UserId, t.WorkspaceId, storage.ErrNotMember)
		}},
		{tokens.key(t.TokenId), false, func() error { return fmt.Errorf("token %q: %w", t.TokenId, storage.ErrAlreadyExists) }},
		{tokenHashes.raw(secretHash), false, func() error {
			return fmt.Errorf("token %q: secret hash: %w", t.TokenId, storage.ErrAlreadyExists)
		}},
	} {
		ok, err := r.has(c.key)
		if err != nil {
			return err
		}
		if ok != c.want {
			return c.err()
		}
	}
	return nil
}

// getToken reads a token of the given workspace; ErrNotFound if absent.
func getToken(r reader, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	rec, err := tokenByID(r, tokenID)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.Token.WorkspaceId != workspaceID {
		return nil, fmt.Errorf("token %q in workspace %q: %w", tokenID, workspaceID, storage.ErrNotFound)
	}
	return rec, nil
}

// tokenByID reads a token of any workspace; nil, nil if absent.
func tokenByID(r reader, id string) (*storagepb.TokenRecord, error) {
	v, err := r.get(tokens.key(id))
	if err != nil || v == nil {
		return nil, err
	}
	rec, err := decodeToken(v)
	if err != nil {
		return nil, fmt.Errorf("token %q: %w", id, err)
	}
	return rec, nil
}

// tokenPolicy reads a workspace's token policy; nil if none or no workspace.
func tokenPolicy(r reader, workspaceID string) (*pb.TokenPolicy, error) {
	ws, err := getMsg[pb.Workspace](r, workspaces.key(workspaceID))
	return ws.GetTokenPolicy(), err // nil-safe: ws is nil on error
}

// insertToken stores a new token's record, secret-hash and workspace
// entries; every new token goes through here.
func insertToken(w writer, t *pb.Token, secretHash, val []byte) error {
	if err := w.put(tokens.key(t.TokenId), val); err != nil {
		return err
	}
	if err := w.put(tokenHashes.raw(secretHash), []byte(t.TokenId)); err != nil {
		return err
	}
	return w.put(workspaceTokens.key(t.WorkspaceId, t.TokenId), []byte(t.UserId))
}

// rewriteToken stores a changed record; its id, workspace, user and secret
// hash must not change (entries name them). Every rewrite goes through here.
func rewriteToken(w writer, rec *storagepb.TokenRecord) error {
	val, err := storage.CheckNewToken(rec)
	if err != nil {
		return err
	}
	return w.put(tokens.key(rec.GetToken().GetTokenId()), val)
}

// deleteToken deletes a token with its entries (the secret-hash one takes
// it out of the validation index), last use and parked seed. Every
// deletion goes through here.
func deleteToken(w writer, rec *storagepb.TokenRecord) error {
	t := rec.GetToken()
	id := t.GetTokenId()
	for _, k := range [][]byte{tokenHashes.raw(rec.GetSecretHash()), workspaceTokens.key(t.GetWorkspaceId(), id), used.key(id), tokens.key(id)} {
		if err := w.del(k); err != nil {
			return err
		}
	}
	h, err := w.get(seedOf.key(id))
	if err != nil || h == nil {
		return err
	}
	h = bytes.Clone(h) // kept across writes
	// A seed may be parked again for another token: delete only this token's.
	seed, err := getMsg[storagepb.SeedRecord](w.reader, seeds.raw(h))
	if err != nil {
		return err
	}
	if seed.GetTokenId() == id {
		return delSeed(w, seeds.raw(h), seed)
	}
	return w.del(seedOf.key(id))
}

// checkPair checks the ids of a key within a workspace.
func checkPair(workspaceID, kind, id string) error {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return err
	}
	return storage.CheckID(kind, id)
}
