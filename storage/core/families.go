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

// liveFamilies returns, each once and in the order revokeRecords would
// revoke them, recs and their descendants that are not revoked by at:
// what a revocation of recs at at changes.
func liveFamilies(r reader, recs []*storagepb.TokenRecord, at time.Time) ([]*storagepb.TokenRecord, error) {
	var out []*storagepb.TokenRecord
	done := map[string]bool{}
	for _, rec := range recs {
		if done[rec.GetToken().GetTokenId()] {
			continue
		}
		chain, err := descendants(r, rec)
		if err != nil {
			return nil, err
		}
		for _, c := range chain {
			id := c.GetToken().GetTokenId()
			if done[id] {
				continue
			}
			done[id] = true
			if !lifecycle.RevokedBy(c.GetToken(), at) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
