package etcd

import (
	"context"
	"time"

	"tokenauthority/storage"
)

// SweepTokens deletes the tokens ended (revoked or expired) by cutoff, with
// their index entries and seeds, scanning all tokens in pages and deleting
// in bounded transactions, each re-checking the records it deletes. batch
// is ignored: the transaction size limit sets the batch.
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	p := s.k.tokens()
	start, end := p, prefixEnd(p)
	total := 0
	for {
		resp, err := s.cli.Get(ctx, start, rangeOpts(end, 500)...)
		if err != nil {
			return total, unavailable(ctx, err)
		}
		var ids []string
		for _, kv := range resp.Kvs {
			rec, err := decodeToken(kv.Value)
			if err != nil {
				return total, err
			}
			if storage.SweptBy(rec.GetToken(), cutoff) {
				ids = append(ids, string(kv.Key[len(p):]))
			}
		}
		for len(ids) > 0 {
			part := ids[:min(len(ids), tokensPerBatch)]
			ids = ids[len(part):]
			var n int
			_, err := s.update(ctx, "sweep tokens", func(x *txn) error {
				n = 0
				for _, id := range part {
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
					if !storage.SweptBy(rec.GetToken(), cutoff) {
						continue
					}
					if err := s.deleteToken(x, rec); err != nil {
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
		if !resp.More || len(resp.Kvs) == 0 {
			return total, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
