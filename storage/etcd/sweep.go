package etcd

import (
	"context"
	"errors"
	"slices"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// SweepTokens deletes the tokens ended (revoked, or expired under their
// own expiry or their workspace's policy) by cutoff, with their index
// entries and seeds. It scans all tokens in pages and deletes in bounded
// transactions that check each record again. As in every store, a member
// of a family goes only once the token it replaced is gone (before, or in
// the same transaction), so the stored members of a family stay an
// unbroken chain; a token whose predecessor is kept waits for a later
// sweep. batch is ignored: the transaction size limit sets the batch.
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	p := s.k.tokens()
	start, end := p, prefixEnd(p)
	var ids []string
	policies := map[string]*pb.TokenPolicy{}
	for {
		resp, err := s.rget(ctx, start, rangeOpts(end, 500)...)
		if err != nil {
			return 0, unavailable(ctx, err)
		}
		for _, kv := range resp.Kvs {
			rec, err := decodeToken(kv.Value)
			if err != nil {
				return 0, err
			}
			ws := rec.GetToken().GetWorkspaceId()
			pol, ok := policies[ws]
			if !ok {
				if pol, err = s.GetTokenPolicy(ctx, ws); err != nil && !isNotFound(err) {
					return 0, err
				}
				policies[ws] = pol
			}
			if storage.SweptBy(rec.GetToken(), pol, cutoff) {
				ids = append(ids, string(kv.Key[len(p):]))
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	slices.Sort(ids) // token ids are time-ordered: predecessors first
	total := 0
	gone := map[string]bool{}
	for len(ids) > 0 {
		var waiting []string
		deleted := 0
		for len(ids) > 0 {
			part := ids[:min(len(ids), tokensPerBatch)]
			ids = ids[len(part):]
			var n int
			var wait []string
			var going []string
			_, err := s.update(ctx, "sweep tokens", func(x *txn) error {
				n, wait, going = 0, nil, nil
				here := map[string]bool{}
				for _, id := range part {
					rec, err := s.tokenByID(x, id)
					if err != nil {
						return err
					}
					if rec == nil {
						continue
					}
					pol, err := s.tokenPolicy(x, rec.Token.WorkspaceId)
					if err != nil {
						return err
					}
					if !storage.SweptBy(rec.GetToken(), pol, cutoff) {
						continue
					}
					if prev := rec.Token.GetReplaces(); prev != "" && !here[prev] && !gone[prev] {
						kept, err := s.tokenByID(x, prev)
						if err != nil {
							return err
						}
						if kept != nil {
							wait = append(wait, id)
							continue
						}
					}
					if err := s.deleteToken(x, rec); err != nil {
						return err
					}
					here[id] = true
					going = append(going, id)
					n++
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			for _, id := range going {
				gone[id] = true
			}
			total += n
			deleted += n
			waiting = append(waiting, wait...)
		}
		if deleted == 0 {
			break
		}
		ids = waiting
	}
	return total, nil
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, storage.ErrNotFound) }
