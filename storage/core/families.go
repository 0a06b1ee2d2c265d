package core

import (
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/lifecycle"
)

// A family is a token and every token that replaced it by roll or refresh,
// linked both ways (replaces, replaced_by). A token is replaced at most
// once, so a family is a chain walked without an index. The retention
// sweep deletes members oldest first (a member only once its predecessor
// is gone), so the stored members are always an unbroken chain: walking
// down from any stored member reaches every stored descendant, and walking
// up stops at the oldest stored one. The walks stop at any loop, which a
// corrupt record could make.

// descendants returns rec followed by every token descended from it, in
// order.
func descendants(r reader, rec *storagepb.TokenRecord) ([]*storagepb.TokenRecord, error) {
	out := []*storagepb.TokenRecord{rec}
	seen := map[string]bool{rec.Token.TokenId: true}
	for next := rec.Token.GetReplacedBy(); next != "" && !seen[next]; {
		n, err := tokenByID(r, next)
		if err != nil || n == nil {
			return out, err
		}
		seen[next] = true
		out = append(out, n)
		next = n.Token.GetReplacedBy()
	}
	return out, nil
}

// familyHead returns the oldest stored member of rec's family.
func familyHead(r reader, rec *storagepb.TokenRecord) (*storagepb.TokenRecord, error) {
	first := rec
	seen := map[string]bool{rec.Token.TokenId: true}
	for prev := rec.Token.GetReplaces(); prev != "" && !seen[prev]; {
		p, err := tokenByID(r, prev)
		if err != nil {
			return nil, err
		}
		if p == nil {
			break
		}
		seen[prev] = true
		first = p
		prev = p.Token.GetReplaces()
	}
	return first, nil
}

// walkFamilies calls fn once for each record and each token descended
// from it, in order. listed, when set, is a split decision that already
// names every descendant it revokes: the walk goes past a record only to
// a successor it does not name (rolled since).
func walkFamilies(r reader, recs []*storagepb.TokenRecord, listed map[string]bool, fn func(*storagepb.TokenRecord) error) error {
	done := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if done[rec.GetToken().GetTokenId()] {
			continue
		}
		chain := []*storagepb.TokenRecord{rec}
		if next := rec.GetToken().GetReplacedBy(); next != "" && !listed[next] {
			var err error
			if chain, err = descendants(r, rec); err != nil {
				return err
			}
		}
		for _, c := range chain {
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

// liveFamilies returns recs and their descendants that are not revoked by
// at, each once, in the order revokeRecords revokes them: what a
// revocation of recs at at changes.
func liveFamilies(r reader, recs []*storagepb.TokenRecord, at time.Time) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	err := walkFamilies(r, recs, nil, func(c *storagepb.TokenRecord) error {
		if !lifecycle.RevokedBy(c.GetToken(), at) {
			out = append(out, c)
		}
		return nil
	})
	return out, err
}
