package bbolt

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// CreateToken stores a new token in one commit: the record, the secret-hash
// index entry, the per-workspace index entry and, when seed is not nil, the
// parked seed. ErrNotFound if the workspace does not exist, ErrNotMember if
// the user is not a member, ErrAlreadyExists if the token id, secret hash or
// seed hash is already stored.
func (s *Store) CreateToken(ctx context.Context, rec *storagepb.TokenRecord, seed *storage.SeedPark) error {
	val, err := storage.CheckNewToken(rec)
	if err != nil {
		return err
	}
	var seedVal []byte
	if seed != nil {
		if seed.Record == nil {
			return fmt.Errorf("token %q: nil seed record: %w", rec.Token.TokenId, storage.ErrInvalid)
		}
		if seedVal, err = encode(seed.Record); err != nil {
			return err
		}
	}
	t := rec.Token
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := checkTokenFree(tx, t, rec.SecretHash); err != nil {
			return reject(err)
		}
		if seed != nil && tx.Bucket(bucketSeeds).Get(seed.Hash[:]) != nil {
			return reject(fmt.Errorf("token %q: seed: %w", t.TokenId, storage.ErrAlreadyExists))
		}
		if err := s.insertToken(tx, t, rec.SecretHash, val); err != nil {
			return err
		}
		if seed != nil {
			return tx.Bucket(bucketSeeds).Put(seed.Hash[:], seedVal)
		}
		return nil
	})
}

// GetToken returns the token's record; ErrNotFound if absent or if it
// belongs to another workspace.
func (s *Store) GetToken(ctx context.Context, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var rec *storagepb.TokenRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		rec, err = getToken(tx, workspaceID, tokenID)
		return err
	})
	return rec, err
}

// ListTokens returns the workspace's tokens newest first: ids less than
// before (all when before is ""), descending, at most limit (all when
// limit <= 0). Tokens revoked by now (revoke_time set and not after now) are
// left out unless includeRevoked. ErrNotFound if the workspace does not
// exist.
func (s *Store) ListTokens(ctx context.Context, workspaceID, before string, limit int, includeRevoked bool, now time.Time) ([]*storagepb.TokenRecord, error) {
	return s.ListTokensMatching(ctx, workspaceID, before, limit, func(t *pb.Token) bool {
		return includeRevoked || !lifecycle.RevokedBy(t, now)
	})
}

// LookupToken finds a token by the SHA-256 of its secret and reports whether
// its user is still a member of its workspace, from the validation index
// (the record comes without its sealed secret, see LookupTokenWithPolicy).
// ErrNotFound if no token has that secret.
func (s *Store) LookupToken(ctx context.Context, secretHash [32]byte) (rec *storagepb.TokenRecord, member bool, err error) {
	rec, member, _, err = s.LookupTokenWithPolicy(ctx, secretHash)
	return rec, member, err
}

// RevokeToken revokes the token at at for reason and, in the same commit,
// every token descended from it (the tokens that replaced it by roll or
// refresh, and those that replaced them), also those whose revocation was
// only scheduled (a grace period); tokens already revoked by then keep their
// revocation. It returns the token's stored record after the change.
// ErrNotFound if absent or in another workspace.
func (s *Store) RevokeToken(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var out *storagepb.TokenRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		rec, err := getToken(tx, workspaceID, tokenID)
		if err != nil {
			return reject(err)
		}
		out = rec
		revoked, err := s.revokeRecords(tx, []*storagepb.TokenRecord{rec}, at, reason)
		storage.NoteRevoked(ctx, revoked)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkTokenFree checks, without writing, that t may be stored: its
// workspace exists, its user is a member, and its id and secret hash are
// unused.
func checkTokenFree(tx *bolt.Tx, t *pb.Token, secretHash []byte) error {
	if tx.Bucket(bucketWorkspaces).Get([]byte(t.WorkspaceId)) == nil {
		return fmt.Errorf("workspace %q: %w", t.WorkspaceId, storage.ErrNotFound)
	}
	if tx.Bucket(bucketMembers).Get(compositeKey(t.WorkspaceId, t.UserId)) == nil {
		return fmt.Errorf("user %q in workspace %q: %w", t.UserId, t.WorkspaceId, storage.ErrNotMember)
	}
	if tx.Bucket(bucketTokens).Get([]byte(t.TokenId)) != nil {
		return fmt.Errorf("token %q: %w", t.TokenId, storage.ErrAlreadyExists)
	}
	if tx.Bucket(bucketTokenHashes).Get(secretHash) != nil {
		return fmt.Errorf("token %q: secret hash: %w", t.TokenId, storage.ErrAlreadyExists)
	}
	return nil
}

// getToken reads a token of the given workspace.
func getToken(tx *bolt.Tx, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	v := tx.Bucket(bucketTokens).Get([]byte(tokenID))
	if v == nil {
		return nil, fmt.Errorf("token %q in workspace %q: %w", tokenID, workspaceID, storage.ErrNotFound)
	}
	rec, err := decodeToken(v)
	if err != nil {
		return nil, err
	}
	if rec.Token.WorkspaceId != workspaceID {
		return nil, fmt.Errorf("token %q in workspace %q: %w", tokenID, workspaceID, storage.ErrNotFound)
	}
	return rec, nil
}

// decodeToken decodes a stored record; a record without its token is
// corrupt, and reporting it beats a nil dereference later.
func decodeToken(v []byte) (*storagepb.TokenRecord, error) {
	rec, err := decode[storagepb.TokenRecord](v)
	if err != nil {
		return nil, err
	}
	if rec.Token == nil {
		return nil, fmt.Errorf("stored token record has no token")
	}
	return rec, nil
}
