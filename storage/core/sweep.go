package core

import (
	"cmp"
	"context"
	"slices"
	"time"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// DefaultSweepBatch caps how many tokens one commit of SweepTokens deletes.
const DefaultSweepBatch = 500

// sweepKey names a token the sweep may delete.
type sweepKey struct{ ws, id string }

// SweepTokens deletes, as deleteToken does, every token revoked or expired
// (by its own expiry or its workspace's policy) at or before cutoff, and
// returns how many; on error, the commits before it stand. A family member
// goes only once the token it replaced is gone (before or in the same
// commit), so stored families stay unbroken chains; one whose predecessor
// is kept waits for a later sweep. Candidates come from the validation
// index; commits take at most batch (0: DefaultSweepBatch; never past the
// engine's limits), each checking its tokens again.
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	batch = min(batch, s.perTxn(6, 4)) // deleteToken, and the predecessor's read
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	ctx = audit.Without(ctx)
	var candidates []sweepKey
	s.index().Each(func(t *pb.Token, p *pb.TokenPolicy) {
		if storage.SweptBy(t, p, cutoff) {
			candidates = append(candidates, sweepKey{t.GetWorkspaceId(), t.GetTokenId()})
		}
	})
	slices.SortFunc(candidates, func(a, b sweepKey) int {
		return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.id, b.id))
	})
	total := 0
	// A token whose predecessor came in a later batch (ids made in the
	// same millisecond sort at random) can go once the predecessor is gone.
	for len(candidates) > 0 {
		var waiting []sweepKey
		before := total
		for part := range slices.Chunk(candidates, batch) {
			n, w, err := s.sweepDelete(ctx, cutoff, part)
			total += n
			waiting = append(waiting, w...)
			if err != nil {
				return total, err
			}
		}
		if total == before {
			break
		}
		candidates = waiting
	}
	return total, nil
}

// sweepDelete deletes, in one commit, the tokens of keys still swept by
// cutoff whose predecessor is gone or goes in the same commit. It returns
// how many it deleted and the swept ones left waiting for a predecessor.
func (s *Store) sweepDelete(ctx context.Context, cutoff time.Time, keys []sweepKey) (int, []sweepKey, error) {
	var n int
	var waiting []sweepKey
	err := s.update(ctx, func(w writer) error {
		n, waiting = 0, nil
		policies := map[string]*pb.TokenPolicy{}
		var pending []*storagepb.TokenRecord
		deleted := map[string]bool{} // the ids in pending: true once deleted
		for _, k := range keys {
			rec, err := tokenByID(w.reader, k.id)
			if err != nil {
				return err
			}
			if rec == nil || rec.GetToken().GetWorkspaceId() != k.ws {
				continue // gone since the candidates were found
			}
			p, ok := policies[k.ws]
			if !ok {
				if p, err = tokenPolicy(w.reader, k.ws); err != nil {
					return err
				}
				policies[k.ws] = p
			}
			if storage.SweptBy(rec.GetToken(), p, cutoff) {
				deleted[k.id] = false
				pending = append(pending, rec)
			}
		}
		// Oldest first: a token goes once its predecessor is absent or
		// going, which may take several passes over a chain.
		for progress := true; progress; {
			progress = false
			rest := pending[:0]
			for _, rec := range pending {
				prev := rec.Token.GetReplaces()
				gone, swept := deleted[prev]
				gone = gone || prev == ""
				if !gone && !swept {
					ok, err := w.has(tokens.key(prev))
					if err != nil {
						return err
					}
					gone = !ok
				}
				if !gone {
					rest = append(rest, rec)
					continue
				}
				if err := deleteToken(w, rec); err != nil {
					return err
				}
				deleted[rec.Token.TokenId] = true
				progress = true
				n++
			}
			pending = rest
		}
		for _, rec := range pending {
			waiting = append(waiting, sweepKey{rec.Token.WorkspaceId, rec.Token.TokenId})
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return n, waiting, nil
}
