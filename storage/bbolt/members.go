package bbolt

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// AddMember stores m; ErrNotFound if its workspace does not exist,
// ErrAlreadyExists if the user is already a member.
func (s *Store) AddMember(ctx context.Context, m *pb.Member) error {
	if m == nil {
		return fmt.Errorf("nil member: %w", storage.ErrInvalid)
	}
	ws, user := m.GetWorkspaceId(), m.GetUserId()
	if err := checkIDs("workspace", ws, "user", user); err != nil {
		return err
	}
	val, err := encode(m)
	if err != nil {
		return err
	}
	key := compositeKey(ws, user)
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get([]byte(ws)) == nil {
			return reject(fmt.Errorf("workspace %q: %w", ws, storage.ErrNotFound))
		}
		b := tx.Bucket(bucketMembers)
		if b.Get(key) != nil {
			return reject(fmt.Errorf("member %q of workspace %q: %w", user, ws, storage.ErrAlreadyExists))
		}
		s.j.member(key)
		return b.Put(key, val)
	})
}

// GetMember returns the membership; ErrNotFound if absent.
func (s *Store) GetMember(ctx context.Context, workspaceID, userID string) (*pb.Member, error) {
	if err := checkIDs("workspace", workspaceID, "user", userID); err != nil {
		return nil, err
	}
	var m *pb.Member
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMembers).Get(compositeKey(workspaceID, userID))
		if v == nil {
			return fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound)
		}
		var err error
		m, err = decode[pb.Member](v)
		return err
	})
	return m, err
}

// ListMembers returns the workspace's members with user ids greater than
// after, ascending, at most limit (all when limit <= 0); ErrNotFound if the
// workspace does not exist.
func (s *Store) ListMembers(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Member, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	var out []*pb.Member
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get([]byte(workspaceID)) == nil {
			return fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
		}
		var err error
		out, err = listAfter[pb.Member](tx.Bucket(bucketMembers), childPrefix(workspaceID), after, limit)
		return err
	})
	return out, err
}

// RemoveMember deletes the membership and, in the same commit, revokes at
// now every token of that user in that workspace that is not already revoked
// by then (revoke_time unset or later than now). It returns how many tokens
// it revoked; ErrNotFound if the user is not a member.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string, now time.Time) (revoked int, err error) {
	if err := checkIDs("workspace", workspaceID, "user", userID); err != nil {
		return 0, err
	}
	key := compositeKey(workspaceID, userID)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		revoked = 0
		members := tx.Bucket(bucketMembers)
		if members.Get(key) == nil {
			return reject(fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound))
		}
		s.j.member(key)
		if err := members.Delete(key); err != nil {
			return err
		}
		recs, err := s.revokeUserTokens(tx, workspaceID, userID, now, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED)
		revoked = len(recs)
		storage.NoteRevoked(ctx, recs)
		return err
	})
	if err != nil {
		return 0, err
	}
	return revoked, nil
}

// checkIDs checks two ids of a composite key.
func checkIDs(kind1, id1, kind2, id2 string) error {
	if err := storage.CheckID(kind1, id1); err != nil {
		return err
	}
	return storage.CheckID(kind2, id2)
}
