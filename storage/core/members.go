package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// AddMember stores m; ErrNotFound without its workspace, ErrAlreadyExists
// if the user is a member, ErrUnavailable while the user's removal is
// unfinished (its marker): it would go on to revoke the new member's tokens.
func (s *Store) AddMember(ctx context.Context, m *pb.Member) error {
	if m == nil {
		return fmt.Errorf("nil member: %w", storage.ErrInvalid)
	}
	ws, user := m.GetWorkspaceId(), m.GetUserId()
	if err := checkPair(ws, "user", user); err != nil {
		return err
	}
	what := fmt.Sprintf("member %q of workspace %q", user, ws)
	return s.create(ctx, what, ws, members.key(ws, user), memberCleanups.key(ws, user), "the earlier removal", m)
}

// GetMember returns the membership; ErrNotFound if absent.
func (s *Store) GetMember(ctx context.Context, workspaceID, userID string) (*pb.Member, error) {
	if err := checkPair(workspaceID, "user", userID); err != nil {
		return nil, err
	}
	return getOne[pb.Member](ctx, s, members.key(workspaceID, userID), fmt.Sprintf("member %q of workspace %q", userID, workspaceID))
}

// ListMembers returns the workspace's members with user ids after after,
// ascending, at most limit (<= 0: all); ErrNotFound without the workspace.
func (s *Store) ListMembers(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Member, error) {
	return listIn[pb.Member](ctx, s, workspaceID, members, after, limit)
}

// RemoveMember deletes the membership and revokes at now the user's tokens
// in the workspace not revoked by then, returning how many; ErrNotFound if
// not a member. From the commit that deletes the membership none of them
// validates; the revocations are in it when they fit, else in chunks after
// it (cleanup.go), all done before it returns.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string, now time.Time) (int, error) {
	if err := checkPair(workspaceID, "user", userID); err != nil {
		return 0, err
	}
	key := members.key(workspaceID, userID)
	refuse := func(r reader) error {
		return r.expect(key, true, fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound))
	}
	// remove deletes the membership in a commit that then runs rest.
	remove := func(rest func(w writer) (int, error)) (int, error) {
		return updated(ctx, s, func(w writer) (int, error) {
			if err := refuse(w.reader); err != nil {
				return 0, reject(err)
			}
			if err := w.del(key); err != nil {
				return 0, err
			}
			return rest(w)
		})
	}
	revoked, err := remove(func(w writer) (int, error) {
		recs, err := userTokens(w.reader, workspaceID, userID)
		if err != nil {
			return 0, err
		}
		out, err := revokeRecords(w, recs, now, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED, nil)
		storage.NoteRevoked(ctx, out)
		return len(out), err
	})
	if !errors.Is(err, storage.ErrTooLarge) {
		return revoked, err
	}
	// Too many for one commit: the first deletes the membership and writes
	// the marker, its event naming the tokens live just before.
	live, err := viewed(ctx, s, func(r reader) ([]*storagepb.TokenRecord, error) {
		if err := refuse(r); err != nil {
			return nil, err
		}
		recs, err := userTokens(r, workspaceID, userID)
		return slices.DeleteFunc(recs, func(rec *storagepb.TokenRecord) bool {
			return lifecycle.RevokedBy(rec.GetToken(), now)
		}), err
	})
	if err != nil {
		return 0, err
	}
	n, err := nonce()
	if err != nil {
		return 0, err
	}
	marker, value := memberCleanups.key(workspaceID, userID), append(encodeUsed(now), n...)
	_, err = remove(func(w writer) (int, error) {
		storage.NoteRevoked(ctx, live)
		return 0, w.put(marker, value)
	})
	if err != nil {
		return 0, err
	}
	return s.finishMember(ctx, marker, value, workspaceID, userID, now)
}
