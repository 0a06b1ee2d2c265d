package core

import (
	"context"
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// AddMember stores m; ErrNotFound if its workspace does not exist,
// ErrAlreadyExists if the user is already a member. A user whose removal
// from the workspace is still revoking their tokens (RemoveMember's
// clean-up marker) is refused with ErrUnavailable until it is finished:
// added back now, the removal's later batches would revoke the new
// member's tokens.
func (s *Store) AddMember(ctx context.Context, m *pb.Member) error {
	if m == nil {
		return fmt.Errorf("nil member: %w", storage.ErrInvalid)
	}
	ws, user := m.GetWorkspaceId(), m.GetUserId()
	if err := checkPair("workspace", ws, "user", user); err != nil {
		return err
	}
	val, err := encode(m)
	if err != nil {
		return err
	}
	key := members.key(ws, user)
	return s.update(ctx, func(w writer) error {
		if err := needWorkspace(w.reader, ws); err != nil {
			return err
		}
		if ok, err := w.has(key); err != nil || ok {
			if ok {
				return reject(fmt.Errorf("member %q of workspace %q: %w", user, ws, storage.ErrAlreadyExists))
			}
			return err
		}
		if ok, err := w.has(memberCleanups.key(ws, user)); err != nil || ok {
			if ok {
				return reject(fmt.Errorf("member %q of workspace %q: the earlier removal is still being finished; retry: %w", user, ws, storage.ErrUnavailable))
			}
			return err
		}
		return w.put(key, val)
	})
}

// GetMember returns the membership; ErrNotFound if absent.
func (s *Store) GetMember(ctx context.Context, workspaceID, userID string) (*pb.Member, error) {
	if err := checkPair("workspace", workspaceID, "user", userID); err != nil {
		return nil, err
	}
	var m *pb.Member
	err := s.view(ctx, func(r reader) error {
		var err error
		if m, err = getMsg[pb.Member](r, members.key(workspaceID, userID)); err == nil && m == nil {
			err = fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound)
		}
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
	err := s.view(ctx, func(r reader) error {
		if err := workspaceGuard(workspaceID)(r); err != nil {
			return err
		}
		var err error
		out, err = listAfter[pb.Member](r, members.children(workspaceID), after, limit)
		return err
	})
	return out, err
}
