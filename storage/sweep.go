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

// SweepTokens deletes every token that was revoked, or expired (by its own
// expiry or a limit of its workspace's token policy), at or before cutoff:
// its record, its secret-hash and workspace index entries and any seed still
// parked for it. A member of a family is deleted only once the token it
// replaced is gone (in the same commit or before), so the stored members of
// a family always form an unbroken chain and revoking a stored member still
// reaches every stored descendant; a token whose predecessor is kept (its
// grace outlasts the cutoff) waits for a later sweep. It works in commits of
// at most batch tokens (0 means DefaultSweepBatch), finding candidates in
// short read transactions and checking each again in the commit that
// deletes it, so requests are never held up for long. It returns how many
// tokens it deleted; on error, the commits before it stand.
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	total := 0
	var after []byte
	var waiting [][]byte
	for {
		keys, next, err := s.sweepCandidates(ctx, cutoff, after, batch)
		if err != nil {
			return total, err
		}
		if len(keys) > 0 {
			n, w, err := s.sweepDelete(ctx, cutoff, keys)
			total += n
			waiting = append(waiting, w...)
			if err != nil {
				return total, err
			}
		}
		if next == nil {
			break
		}
		after = next
	}
	// A token whose predecessor came in a later batch (ids made in the same
	// millisecond sort at random) can go now that the predecessor is gone.
	for len(waiting) > 0 {
		var still [][]byte
		deleted := 0
		for start := 0; start < len(waiting); start += batch {
			n, w, err := s.sweepDelete(ctx, cutoff, waiting[start:min(start+batch, len(waiting))])
			total += n
			deleted += n
			still = append(still, w...)
			if err != nil {
				return total, err
			}
		}
		if deleted == 0 {
			break
		}
		waiting = still
	}
	return total, nil
}

// sweptBy reports whether a token has ended (revoked, or expired under its
// workspace's policy p) at or before cutoff.
func sweptBy(t *pb.Token, p *pb.TokenPolicy, cutoff time.Time) bool {
	return lifecycle.RevokedBy(t, cutoff) || lifecycle.ExpiredUnder(t, p, cutoff)
}

// policies reads workspaces' token policies once per transaction.
type policies struct {
	tx   *bolt.Tx
	byWS map[string]*pb.TokenPolicy
}

func (p *policies) of(workspaceID string) (*pb.TokenPolicy, error) {
	if pol, ok := p.byWS[workspaceID]; ok {
		return pol, nil
	}
	pol, err := tokenPolicy(p.tx, workspaceID)
	if err != nil {
		return nil, err
	}
	if p.byWS == nil {
		p.byWS = map[string]*pb.TokenPolicy{}
	}
	p.byWS[workspaceID] = pol
	return pol, nil
}

// sweepCandidates walks workspace_tokens keys after after (from the start
// when nil) and returns up to batch keys of tokens swept by cutoff, and the
// key to continue after, nil at the end of the bucket.
func (s *Store) sweepCandidates(ctx context.Context, cutoff time.Time, after []byte, batch int) (keys [][]byte, next []byte, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		keys, next = nil, nil
		records := tx.Bucket(bucketTokens)
		pols := &policies{tx: tx}
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
			p, err := pols.of(string(k[:i]))
			if err != nil {
				return err
			}
			if sweptBy(rec.GetToken(), p, cutoff) {
				keys = append(keys, bytes.Clone(k))
			}
		}
		next = nil
		return nil
	})
	return keys, next, err
}

// sweepDelete deletes, in one commit, the tokens of keys (workspace_tokens
// keys) that are still swept by cutoff and whose predecessor is gone or
// goes in the same commit, through deleteTokens, one call per workspace. It
// returns how many it deleted and the keys of swept tokens left waiting for
// their predecessor.
func (s *Store) sweepDelete(ctx context.Context, cutoff time.Time, keys [][]byte) (int, [][]byte, error) {
	var n int
	var waiting [][]byte
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n, waiting = 0, nil
		records := tx.Bucket(bucketTokens)
		pols := &policies{tx: tx}
		type candidate struct {
			key  []byte
			prev string // the token it replaced; "" when none or unreadable
		}
		var pending []candidate
		for _, k := range keys {
			i := bytes.IndexByte(k, sep)
			c := candidate{key: k}
			if v := records.Get(k[i+1:]); v != nil {
				rec, err := decodeToken(v)
				if err != nil {
					return err
				}
				p, err := pols.of(string(k[:i]))
				if err != nil {
					return err
				}
				if !sweptBy(rec.GetToken(), p, cutoff) {
					continue
				}
				c.prev = rec.GetToken().GetReplaces()
			}
			pending = append(pending, c)
		}
		// Oldest first: a token goes once its predecessor is absent or
		// going, which may take several passes over a chain.
		going := map[string]bool{}
		var chosen [][]byte
		for progress := true; progress; {
			progress = false
			rest := pending[:0]
			for _, c := range pending {
				if c.prev == "" || going[c.prev] || records.Get([]byte(c.prev)) == nil {
					i := bytes.IndexByte(c.key, sep)
					going[string(c.key[i+1:])] = true
					chosen = append(chosen, c.key)
					progress = true
					continue
				}
				rest = append(rest, c)
			}
			pending = rest
		}
		for _, c := range pending {
			waiting = append(waiting, c.key)
		}
		byWorkspace := map[string][][]byte{}
		var order []string
		for _, k := range chosen {
			i := bytes.IndexByte(k, sep)
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
		return 0, nil, err
	}
	return n, waiting, nil
}
