package bbolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Counts of records kept in the meta bucket, updated in the same
// transaction as every write that adds or deletes a token or a workspace,
// so reading them costs one Get at any store size. Every put of a new token
// record goes through insertToken and every delete through removeToken;
// workspaces through insertWorkspace and removeWorkspace. A write that
// bypasses them makes the counts lie.
var (
	keyTokenCount     = []byte("count/tokens")
	keyWorkspaceCount = []byte("count/workspaces")
)

// Counts returns how many token records (in any state) and workspaces are
// stored, from counters kept up to date by every write: constant cost,
// whatever the size of the store.
func (s *Store) Counts(ctx context.Context) (tokens, workspaces int, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		t, err := readCount(meta, keyTokenCount)
		if err != nil {
			return err
		}
		w, err := readCount(meta, keyWorkspaceCount)
		if err != nil {
			return err
		}
		tokens, workspaces = int(t), int(w)
		return nil
	})
	return tokens, workspaces, err
}

func readCount(meta *bolt.Bucket, key []byte) (uint64, error) {
	v := meta.Get(key)
	if len(v) != 8 {
		return 0, fmt.Errorf("meta %s has %d bytes, want 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// addCount adds delta to the count under key in tx.
func addCount(tx *bolt.Tx, key []byte, delta int64) error {
	meta := tx.Bucket(bucketMeta)
	n, err := readCount(meta, key)
	if err != nil {
		return err
	}
	next := int64(n) + delta
	if next < 0 {
		return fmt.Errorf("meta %s would drop below zero", key)
	}
	return meta.Put(key, binary.BigEndian.AppendUint64(nil, uint64(next)))
}

// setCounts recounts both buckets, walking them: only when the counters are
// created (a new file, or one from schema version 1).
func setCounts(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	for _, c := range []struct {
		key    []byte
		bucket []byte
	}{{keyTokenCount, bucketTokens}, {keyWorkspaceCount, bucketWorkspaces}} {
		n := tx.Bucket(c.bucket).Stats().KeyN
		if err := meta.Put(c.key, binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return err
		}
	}
	return nil
}

// insertToken writes a new, checked token's record and both index entries,
// and counts it. The caller has made sure (checkTokenFree) that the id and
// secret hash are unused.
func (s *Store) insertToken(tx *bolt.Tx, t *pb.Token, secretHash, val []byte) error {
	id := []byte(t.TokenId)
	s.j.token(id, secretHash)
	if err := tx.Bucket(bucketTokens).Put(id, val); err != nil {
		return err
	}
	if err := tx.Bucket(bucketTokenHashes).Put(secretHash, id); err != nil {
		return err
	}
	if err := tx.Bucket(bucketWorkspaceTokens).Put(compositeKey(t.WorkspaceId, t.TokenId), []byte(t.UserId)); err != nil {
		return err
	}
	return addCount(tx, keyTokenCount, 1)
}

// removeToken deletes token id's record, its secret-hash and workspace
// index entries, and uncounts it. A missing record is not an error (its
// index entries, if any, are still removed) and is not uncounted. Seeds
// parked for the token are the caller's business.
func (s *Store) removeToken(tx *bolt.Tx, id []byte) error {
	records := tx.Bucket(bucketTokens)
	v := records.Get(id)
	if v == nil {
		return nil
	}
	rec, err := decodeToken(v)
	if err != nil {
		return err
	}
	t := rec.GetToken()
	s.j.token(id, rec.GetSecretHash())
	if err := tx.Bucket(bucketTokenHashes).Delete(rec.GetSecretHash()); err != nil {
		return err
	}
	if err := tx.Bucket(bucketWorkspaceTokens).Delete(compositeKey(t.GetWorkspaceId(), t.GetTokenId())); err != nil {
		return err
	}
	if err := records.Delete(id); err != nil {
		return err
	}
	return addCount(tx, keyTokenCount, -1)
}

// insertWorkspace stores a new workspace (the caller checked its id is
// free) and counts it.
func (s *Store) insertWorkspace(tx *bolt.Tx, key, val []byte) error {
	s.j.workspace(key)
	if err := tx.Bucket(bucketWorkspaces).Put(key, val); err != nil {
		return err
	}
	return addCount(tx, keyWorkspaceCount, 1)
}

// removeWorkspace deletes an existing workspace record and uncounts it.
func (s *Store) removeWorkspace(tx *bolt.Tx, key []byte) error {
	s.j.workspace(key)
	if err := tx.Bucket(bucketWorkspaces).Delete(key); err != nil {
		return err
	}
	return addCount(tx, keyWorkspaceCount, -1)
}
