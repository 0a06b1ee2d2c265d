package storage

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// A family is a token and every token that replaced it by roll or refresh,
// linked both ways (replaces, replaced_by). A token is replaced at most
// once, so a family is a chain and its members can be walked without an
// index. The walks stop at a missing record (a member deleted after its
// retention period) and at any loop, which a corrupt record could make.

// RevokeTokenFor revokes the token at at for reason and, in the same
// commit, every token descended from it (the tokens that replaced it, and
// those that replaced them), also those whose revocation was only scheduled
// (a grace period). It returns the token's stored record after the change;
// ErrNotFound if absent or in another workspace.
func (s *Store) RevokeTokenFor(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var out *storagepb.TokenRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		rec, err := getToken(tx, workspaceID, tokenID)
		if err != nil {
			return reject(err)
		}
		chain, err := descendants(tx, rec)
		if err != nil {
			return reject(err)
		}
		for _, r := range chain {
			if lifecycle.Revoke(r.Token, at, reason) {
				if err := putRecord(tx, r); err != nil {
					return err
				}
			}
		}
		out = chain[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

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

// family returns every member of rec's family still stored, oldest first.
func family(tx *bolt.Tx, rec *storagepb.TokenRecord) ([]*storagepb.TokenRecord, error) {
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
	return descendants(tx, first)
}

// revokeFamily revokes every stored member of rec's family at at for
// reason.
func revokeFamily(tx *bolt.Tx, rec *storagepb.TokenRecord, at time.Time, reason pb.RevokeReason) error {
	members, err := family(tx, rec)
	if err != nil {
		return err
	}
	for _, r := range members {
		if lifecycle.Revoke(r.Token, at, reason) {
			if err := putRecord(tx, r); err != nil {
				return err
			}
		}
	}
	return nil
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

// putRecord writes a changed record of a stored token through putToken.
func putRecord(tx *bolt.Tx, rec *storagepb.TokenRecord) error {
	val, err := checkNewToken(rec)
	if err != nil {
		return err
	}
	return putToken(tx, rec.Token, rec.SecretHash, val)
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
