package etcd

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// CreateToken stores a new token in one transaction: the record, its
// secret-hash and workspace index entries and, when seed is not nil, the
// parked seed. The workspace and the member must exist and the id, the
// secret hash and the seed must be free, all at the transaction's
// revision; a concurrent change to any of them makes it try again.
func (s *Store) CreateToken(ctx context.Context, rec *storagepb.TokenRecord, seed *storage.SeedPark) error {
	val, err := storage.CheckNewToken(rec)
	if err != nil {
		return err
	}
	if seed != nil && seed.Record == nil {
		return fmt.Errorf("token %q: nil seed record: %w", rec.Token.TokenId, storage.ErrInvalid)
	}
	t := rec.Token
	_, err = s.update(ctx, "create token", func(x *txn) error {
		if err := s.checkTokenFree(x, t, rec.SecretHash); err != nil {
			return err
		}
		if seed != nil {
			if ok, err := x.exists(s.k.seed(seed.Hash[:])); err != nil || ok {
				if err == nil {
					err = fmt.Errorf("token %q: seed: %w", t.TokenId, storage.ErrAlreadyExists)
				}
				return err
			}
		}
		s.insertToken(x, t, rec.SecretHash, val)
		if seed != nil {
			if err := x.put(s.k.seed(seed.Hash[:]), seed.Record); err != nil {
				return err
			}
			x.putRaw(s.k.seedOf(t.TokenId), hex.EncodeToString(seed.Hash[:]))
		}
		return nil
	})
	return err
}

func (s *Store) checkTokenFree(x *txn, t *pb.Token, secretHash []byte) error {
	if ok, err := x.exists(s.k.workspace(t.WorkspaceId)); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("workspace %q: %w", t.WorkspaceId, storage.ErrNotFound)
		}
		return err
	}
	if ok, err := x.exists(s.k.member(t.WorkspaceId, t.UserId)); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("user %q in workspace %q: %w", t.UserId, t.WorkspaceId, storage.ErrNotMember)
		}
		return err
	}
	if ok, err := x.exists(s.k.token(t.TokenId)); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("token %q: %w", t.TokenId, storage.ErrAlreadyExists)
		}
		return err
	}
	if ok, err := x.exists(s.k.hash(secretHash)); err != nil || ok {
		if err == nil {
			err = fmt.Errorf("token %q: secret hash: %w", t.TokenId, storage.ErrAlreadyExists)
		}
		return err
	}
	return nil
}

func (s *Store) insertToken(x *txn, t *pb.Token, secretHash, val []byte) {
	x.putRaw(s.k.token(t.TokenId), string(val))
	x.putRaw(s.k.hash(secretHash), t.TokenId)
	x.putRaw(s.k.wsToken(t.WorkspaceId, t.TokenId), t.UserId)
}

// putToken stages the rewrite of a token record, encoded as every store
// keeps it (without the derived state).
func (s *Store) putToken(x *txn, rec *storagepb.TokenRecord) error {
	val, err := storage.CheckNewToken(rec)
	if err != nil {
		return err
	}
	x.putRaw(s.k.token(rec.Token.TokenId), string(val))
	return nil
}

// deleteToken stages the deletion of a token record, its index entries
// and its parked seed, if any.
func (s *Store) deleteToken(x *txn, rec *storagepb.TokenRecord) error {
	t := rec.GetToken()
	x.del(s.k.token(t.GetTokenId()))
	x.del(s.k.hash(rec.GetSecretHash()))
	x.del(s.k.wsToken(t.GetWorkspaceId(), t.GetTokenId()))
	kv, err := x.get(s.k.seedOf(t.GetTokenId()))
	if err != nil {
		return err
	}
	if kv != nil {
		h, err := hex.DecodeString(string(kv.Value))
		if err == nil {
			x.del(s.k.seed(h))
		}
		x.del(s.k.seedOf(t.GetTokenId()))
	}
	return nil
}

// GetToken returns a token of a workspace.
func (s *Store) GetToken(ctx context.Context, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	kv, err := s.get(ctx, s.k.token(tokenID))
	if err != nil {
		return nil, err
	}
	rec, err := tokenIn(kv, workspaceID, tokenID)
	if err != nil {
		return nil, err
	}
	s.overlayPending(rec.Token, kv.CreateRevision)
	return rec, nil
}

// tokenIn decodes a token record read under tokenID, refusing a missing one
// and one of another workspace alike.
func tokenIn(kv *mvccpb.KeyValue, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	if kv == nil {
		return nil, fmt.Errorf("token %q in workspace %q: %w", tokenID, workspaceID, storage.ErrNotFound)
	}
	rec, err := decodeToken(kv.Value)
	if err != nil {
		return nil, err
	}
	if rec.Token.WorkspaceId != workspaceID {
		return nil, fmt.Errorf("token %q in workspace %q: %w", tokenID, workspaceID, storage.ErrNotFound)
	}
	return rec, nil
}

// ListTokens lists a workspace's tokens newest first, before the given id.
func (s *Store) ListTokens(ctx context.Context, workspaceID, before string, limit int, includeRevoked bool, now time.Time) ([]*storagepb.TokenRecord, error) {
	return s.ListTokensMatching(ctx, workspaceID, before, limit, func(t *pb.Token) bool {
		return includeRevoked || !lifecycle.RevokedBy(t, now)
	})
}

// ListTokensMatching lists, newest first and before the given id, up to
// limit tokens of a workspace that match. Every page is read at one
// revision.
func (s *Store) ListTokensMatching(ctx context.Context, workspaceID, before string, limit int, match func(*pb.Token) bool) ([]*storagepb.TokenRecord, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	prefix := s.k.wsTokens(workspaceID)
	end := prefixEnd(prefix)
	if before != "" {
		end = prefix + before
	}
	ws, err := s.rget(ctx, s.k.workspace(workspaceID), clientv3.WithCountOnly())
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	if ws.Count == 0 {
		return nil, fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
	}
	rev := ws.Header.Revision
	var out []*storagepb.TokenRecord
	for {
		page, err := s.rget(ctx, prefix, clientv3.WithRange(end), clientv3.WithRev(rev), clientv3.WithKeysOnly(),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(100))
		if err != nil {
			return nil, unavailable(ctx, err)
		}
		if len(page.Kvs) == 0 {
			return out, nil
		}
		ops := make([]clientv3.Op, len(page.Kvs))
		for i, kv := range page.Kvs {
			ops[i] = clientv3.OpGet(s.k.token(string(kv.Key[len(prefix):])), clientv3.WithRev(rev))
		}
		recs, err := s.rtxn(ctx, ops...)
		if err != nil {
			return nil, unavailable(ctx, err)
		}
		for i, r := range recs.Responses {
			kvs := r.GetResponseRange().GetKvs()
			if len(kvs) == 0 {
				return nil, fmt.Errorf("token %q indexed in workspace %q but missing", page.Kvs[i].Key[len(prefix):], workspaceID)
			}
			rec, err := decodeToken(kvs[0].Value)
			if err != nil {
				return nil, err
			}
			s.overlayPending(rec.Token, kvs[0].CreateRevision)
			if match != nil && !match(rec.GetToken()) {
				continue
			}
			if limit > 0 && len(out) >= limit {
				return out, nil
			}
			out = append(out, rec)
		}
		if limit > 0 && len(out) >= limit || !page.More {
			return out, nil
		}
		end = string(page.Kvs[len(page.Kvs)-1].Key)
	}
}

// RevokeToken revokes one token at the given time, keeping an earlier
// revocation; it returns the record as stored after.
func (s *Store) RevokeToken(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	// A long family is more than one transaction holds; revokeAll
	// decides it in one write all the same.
	var out *storagepb.TokenRecord
	revoked, err := s.revokeAll(ctx, "revoke token", func(x *txn) error {
		kv, err := x.get(s.k.token(tokenID))
		if err != nil {
			return err
		}
		out, err = tokenIn(kv, workspaceID, tokenID)
		return err
	}, []string{tokenID}, func(rec *storagepb.TokenRecord) bool {
		return rec.GetToken().GetWorkspaceId() == workspaceID
	}, at, reason, "", "")
	if err != nil {
		return nil, err
	}
	for _, r := range revoked {
		if r.GetToken().GetTokenId() == tokenID {
			return r, nil
		}
	}
	return out, nil
}

// revokeRecords stages the revocation, as of at, of recs and of every
// stored descendant of each (the tokens rolled from it), and returns the
// records it changed.
func (s *Store) revokeRecords(x *txn, recs []*storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	done := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if done[rec.GetToken().GetTokenId()] {
			continue
		}
		chain, err := s.descendants(x, rec)
		if err != nil {
			return nil, err
		}
		for _, r := range chain {
			id := r.GetToken().GetTokenId()
			if done[id] {
				continue
			}
			done[id] = true
			if !lifecycle.Revoke(r.GetToken(), at, reason) {
				continue
			}
			if err := s.putToken(x, r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// RecordUses sets the last-used time of tokens, keeping a later one, in
// batches of independent transactions; unknown tokens are skipped.
func (s *Store) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	ids := make([]string, 0, len(uses))
	for id := range uses {
		if storage.CheckID("token", id) == nil {
			ids = append(ids, id)
		}
	}
	total := 0
	for len(ids) > 0 {
		batch := ids[:min(len(ids), maxOps/2)]
		ids = ids[len(batch):]
		var n int
		_, err := s.update(ctx, "record uses", func(x *txn) error {
			n = 0
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
				at := uses[id]
				if last := rec.Token.GetLastUsedTime(); last != nil && !at.After(last.AsTime()) {
					continue
				}
				rec.Token.LastUsedTime = timestamppb.New(at)
				if err := s.putToken(x, rec); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
