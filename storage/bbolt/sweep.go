package bbolt

import (
	"bytes"
	"context"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// DefaultSweepBatch caps how many tokens one commit of SweepTokens deletes.
const DefaultSweepBatch = 500

// SweepTokens deletes every token that was revoked, or expired (by its own
// expiry or a limit of its workspace's token policy), at or before cutoff:
// its record, its secret-hash and workspace index entries and any seed still
// parked for it. A member of a family is deleted only once the token it
// replaced is gone (in the same commit or before), so the stored members of
// a family always form an unbroken chain and revoking a stored member still
// reaches every stored descendant; a token whose predecessor is kept (its
// grace outlasts the cutoff) waits for a later sweep. It finds candidates
// in the validation index, not in the file, so a sweep reads from the file
// only the tokens it deletes (a scan of the file would fault every record
// into memory); then it works in commits of at most batch tokens (0 means
// DefaultSweepBatch), checking each candidate again in the commit that
// deletes it, so requests are never held up for long. It returns how many
// tokens it deleted; on error, the commits before it stand.
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, storage.ErrClosed
	}
	candidates := s.sweepCandidates(cutoff)
	total := 0
	var waiting [][]byte
	for start := 0; start < len(candidates); start += batch {
		n, w, err := s.sweepDelete(ctx, cutoff, candidates[start:min(start+batch, len(candidates))])
		total += n
		waiting = append(waiting, w...)
		if err != nil {
			return total, err
		}
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

// sweepCandidates returns the workspace_tokens keys of the tokens the
// validation index holds as swept by cutoff, in key order. It decodes every
// indexed token once, in memory, under the index's read lock.
func (s *Store) sweepCandidates(cutoff time.Time) [][]byte {
	var keys [][]byte
	s.index.Each(func(t *pb.Token, p *pb.TokenPolicy) {
		if storage.SweptBy(t, p, cutoff) {
			keys = append(keys, compositeKey(t.GetWorkspaceId(), t.GetTokenId()))
		}
	})
	slices.SortFunc(keys, bytes.Compare)
	return keys
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
			prev string // the token it replaced; "" when none
		}
		var pending []candidate
		for _, k := range keys {
			i := bytes.IndexByte(k, sep)
			v := records.Get(k[i+1:])
			if v == nil {
				continue // gone since the candidates were found
			}
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			if rec.GetToken().GetWorkspaceId() != string(k[:i]) {
				continue
			}
			p, err := pols.of(string(k[:i]))
			if err != nil {
				return err
			}
			if !storage.SweptBy(rec.GetToken(), p, cutoff) {
				continue
			}
			pending = append(pending, candidate{key: k, prev: rec.GetToken().GetReplaces()})
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
			if err := s.deleteTokens(tx, []byte(ws), byWorkspace[ws]); err != nil {
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
