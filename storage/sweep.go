package storage

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// DefaultSweepBatch caps how many tokens one commit of SweepTokens deletes.
const DefaultSweepBatch = 500

// sweepScanLimit caps how many index entries one read transaction of
// SweepTokens examines, so that no read transaction runs long on a big store.
const sweepScanLimit = 10000

// SweepTokens deletes every token that was revoked, or expired, at or before
// cutoff: its record, its secret-hash and workspace index entries and any
// seed still parked for it. It works in commits of at most batch tokens (0
// means DefaultSweepBatch), finding candidates in short read transactions
// and checking each again in the commit that deletes it, so requests are
// never held up for long. It returns how many tokens it deleted; on error,
// the commits before it stand.
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	total := 0
	var after []byte
	for {
		keys, next, err := s.sweepCandidates(ctx, cutoff, after, batch)
		if err != nil {
			return total, err
		}
		if len(keys) > 0 {
			n, err := s.sweepDelete(ctx, cutoff, keys)
			total += n
			if err != nil {
				return total, err
			}
		}
		if next == nil {
			return total, nil
		}
		after = next
	}
}

// sweptBy reports whether a token has ended (revoked or expired) at or
// before cutoff.
func sweptBy(t *pb.Token, cutoff time.Time) bool {
	return lifecycle.RevokedBy(t, cutoff) || lifecycle.ExpiredBy(t, cutoff)
}

// sweepCandidates walks workspace_tokens keys after after (from the start
// when nil) and returns up to batch keys of tokens swept by cutoff, and the
// key to continue after, nil at the end of the bucket.
func (s *Store) sweepCandidates(ctx context.Context, cutoff time.Time, after []byte, batch int) (keys [][]byte, next []byte, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		keys, next = nil, nil
		records := tx.Bucket(bucketTokens)
		c := tx.Bucket(bucketWorkspaceTokens).Cursor()
		k, _ := c.First()
		if after != nil {
			if k, _ = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		}
		for scanned := 0; k != nil; k, _ = c.Next() {
			if len(keys) >= batch || scanned >= sweepScanLimit {
				return nil // next is the last key examined
			}
			scanned++
			next = bytes.Clone(k)
			i := bytes.IndexByte(k, sep)
			if i < 0 {
				continue
			}
			v := records.Get(k[i+1:])
			if v == nil {
				// An index entry without its record: delete it too.
				keys = append(keys, bytes.Clone(k))
				continue
			}
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			if sweptBy(rec.GetToken(), cutoff) {
				keys = append(keys, bytes.Clone(k))
			}
		}
		next = nil
		return nil
	})
	return keys, next, err
}

// sweepDelete deletes, in one commit, the tokens of keys (workspace_tokens
// keys) that are still swept by cutoff, through deleteTokens, one call per
// workspace.
func (s *Store) sweepDelete(ctx context.Context, cutoff time.Time, keys [][]byte) (int, error) {
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		records := tx.Bucket(bucketTokens)
		byWorkspace := map[string][][]byte{}
		var order []string
		for _, k := range keys {
			i := bytes.IndexByte(k, sep)
			if v := records.Get(k[i+1:]); v != nil {
				rec, err := decodeToken(v)
				if err != nil {
					return err
				}
				if !sweptBy(rec.GetToken(), cutoff) {
					continue
				}
			}
			ws := string(k[:i+1])
			if _, ok := byWorkspace[ws]; !ok {
				order = append(order, ws)
			}
			byWorkspace[ws] = append(byWorkspace[ws], k)
		}
		for _, ws := range order {
			if err := deleteTokens(tx, []byte(ws), byWorkspace[ws]); err != nil {
				return err
			}
			n += len(byWorkspace[ws])
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
