package bbolt

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// A family is a token and every token that replaced it by roll or refresh,
// linked both ways (replaces, replaced_by). A token is replaced at most
// once, so a family is a chain and its members can be walked without an
// index. The retention sweep deletes members oldest first (a member only
// once its predecessor is gone), so the stored members are always an
// unbroken chain: walking down from any stored member reaches every stored
// descendant, and walking up stops at the oldest stored one. The walks also
// stop at any loop, which a corrupt record could make.

// descendants returns rec followed by every token descended from it, in
// order.
func descendants(tx *bolt.Tx, rec *storagepb.TokenRecord) ([]*storagepb.TokenRecord, error) {
	out := []*storagepb.TokenRecord{rec}
	seen := map[string]bool{rec.Token.TokenId: true}
	for next := rec.Token.GetReplacedBy(); next != "" && !seen[next]; {
		r, err := tokenByID(tx, next)
		if err != nil || r == nil {
			return out, err
		}
		seen[next] = true
		out = append(out, r)
		next = r.Token.GetReplacedBy()
	}
	return out, nil
}

// familyHead returns the oldest stored member of rec's family.
func familyHead(tx *bolt.Tx, rec *storagepb.TokenRecord) (*storagepb.TokenRecord, error) {
	first := rec
	seen := map[string]bool{rec.Token.TokenId: true}
	for prev := rec.Token.GetReplaces(); prev != "" && !seen[prev]; {
		r, err := tokenByID(tx, prev)
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		seen[prev] = true
		first = r
		prev = r.Token.GetReplaces()
	}
	return first, nil
}

// revokeFamily revokes every stored member of rec's family at at for
// reason: the descendants of its oldest stored member. It returns those it
// revoked.
func (s *Store) revokeFamily(tx *bolt.Tx, rec *storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	head, err := familyHead(tx, rec)
	if err != nil {
		return nil, err
	}
	return s.revokeRecords(tx, []*storagepb.TokenRecord{head}, at, reason)
}

// tokenByID reads a token of any workspace; nil, nil if absent.
func tokenByID(tx *bolt.Tx, id string) (*storagepb.TokenRecord, error) {
	v := tx.Bucket(bucketTokens).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	rec, err := decodeToken(v)
	if err != nil {
		return nil, fmt.Errorf("token %q: %w", id, err)
	}
	return rec, nil
}

// tokenPolicy reads the token policy of a workspace; nil if it has none or
// the workspace is gone.
func tokenPolicy(tx *bolt.Tx, workspaceID string) (*pb.TokenPolicy, error) {
	v := tx.Bucket(bucketWorkspaces).Get([]byte(workspaceID))
	if v == nil {
		return nil, nil
	}
	ws, err := decode[pb.Workspace](v)
	if err != nil {
		return nil, err
	}
	return ws.GetTokenPolicy(), nil
}
