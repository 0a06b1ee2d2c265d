package etcd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// AddMember adds a member to an existing workspace.
func (s *Store) AddMember(ctx context.Context, m *pb.Member) error {
	if m == nil {
		return fmt.Errorf("nil member: %w", storage.ErrInvalid)
	}
	ws, user := m.GetWorkspaceId(), m.GetUserId()
	if err := checkIDs("workspace", ws, "user", user); err != nil {
		return err
	}
	_, err := s.update(ctx, "add member", func(t *txn) error {
		if ok, err := t.exists(s.k.workspace(ws)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("workspace %q: %w", ws, storage.ErrNotFound)
			}
			return err
		}
		if ok, err := t.exists(s.k.member(ws, user)); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("member %q of workspace %q: %w", user, ws, storage.ErrAlreadyExists)
			}
			return err
		}
		return t.put(s.k.member(ws, user), m)
	})
	return err
}

// GetMember returns a member.
func (s *Store) GetMember(ctx context.Context, workspaceID, userID string) (*pb.Member, error) {
	if err := checkIDs("workspace", workspaceID, "user", userID); err != nil {
		return nil, err
	}
	kv, err := s.get(ctx, s.k.member(workspaceID, userID))
	if err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound)
	}
	return decode[pb.Member](kv.Value)
}

// ListMembers lists a workspace's members in user id order.
func (s *Store) ListMembers(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Member, error) {
	return listInWorkspace[pb.Member](ctx, s, workspaceID, s.k.members(workspaceID), after, limit)
}

// RemoveMember deletes a member and revokes their tokens. The deletion is
// one transaction, and from it on their tokens are refused (LookupToken);
// the revocations are written after it in bounded batches, marked by a
// clean-up record that a later start finishes if this process dies first.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string, now time.Time) (int, error) {
	if err := checkIDs("workspace", workspaceID, "user", userID); err != nil {
		return 0, err
	}
	marker := s.k.memberCleanup(workspaceID, userID)
	// The tokens the removal ends, named in its audit event.
	var live []*storagepb.TokenRecord
	if audit.FromContext(ctx).Draft() != nil {
		ids, err := s.userTokens(ctx, workspaceID, userID, 0)
		if err != nil {
			return 0, err
		}
		if live, err = s.liveTokens(ctx, ids, func(*storagepb.TokenRecord) bool { return true }, now); err != nil {
			return 0, err
		}
	}
	rev, err := s.update(ctx, "remove member", func(t *txn) error {
		if ok, err := t.exists(s.k.member(workspaceID, userID)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound)
			}
			return err
		}
		t.del(s.k.member(workspaceID, userID))
		t.putRaw(marker, now.UTC().Format(time.RFC3339Nano))
		storage.NoteRevoked(ctx, live)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return s.finishMemberCleanup(ctx, workspaceID, userID, now, rev)
}

// parseMemberMarker reads a member clean-up record: the removal time and
// revision.
func parseMemberMarker(v []byte, rev int64) (time.Time, int64, error) {
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(v)))
	return at, rev, err
}
