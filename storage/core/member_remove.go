package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// RemoveMember deletes the membership and revokes at now every token of
// that user in that workspace not already revoked by then, and returns how
// many it revoked; ErrNotFound if the user is not a member. From the
// commit that deletes the membership no token of theirs validates (the
// index reports them no member); the revocations are in the same commit
// when they fit, else in chunks after it (cleanup.go), all done before it
// returns.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string, now time.Time) (int, error) {
	if err := checkPair("workspace", workspaceID, "user", userID); err != nil {
		return 0, err
	}
	key := members.key(workspaceID, userID)
	refuse := func(r reader) error {
		ok, err := r.has(key)
		if err == nil && !ok {
			err = fmt.Errorf("member %q of workspace %q: %w", userID, workspaceID, storage.ErrNotFound)
		}
		return err
	}
	revoked := 0
	err := s.update(ctx, func(w writer) error {
		revoked = 0
		if err := refuse(w.reader); err != nil {
			return reject(err)
		}
		if err := w.del(key); err != nil {
			return err
		}
		recs, err := userTokens(w.reader, workspaceID, userID)
		if err != nil {
			return err
		}
		out, err := revokeRecords(w, recs, now, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED, nil)
		revoked = len(out)
		storage.NoteRevoked(ctx, out)
		return err
	})
	if !errors.Is(err, storage.ErrTooLarge) {
		if err != nil {
			return 0, err
		}
		return revoked, nil
	}
	return s.splitRemoveMember(ctx, workspaceID, userID, now, refuse)
}

// splitRemoveMember is RemoveMember for a member with more tokens than one
// transaction holds: the first deletes the membership and writes the
// marker, with the event naming the tokens still live just before.
func (s *Store) splitRemoveMember(ctx context.Context, workspaceID, userID string, now time.Time, refuse func(r reader) error) (int, error) {
	var live []*storagepb.TokenRecord
	err := s.view(ctx, func(r reader) error {
		live = nil
		if err := refuse(r); err != nil {
			return err
		}
		recs, err := userTokens(r, workspaceID, userID)
		for _, rec := range recs {
			if !lifecycle.RevokedBy(rec.GetToken(), now) {
				live = append(live, rec)
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	n, err := nonce()
	if err != nil {
		return 0, err
	}
	marker, value := memberCleanups.key(workspaceID, userID), append(encodeUsed(now), n...)
	err = s.update(ctx, func(w writer) error {
		if err := refuse(w.reader); err != nil {
			return reject(err)
		}
		if err := w.del(members.key(workspaceID, userID)); err != nil {
			return err
		}
		storage.NoteRevoked(ctx, live)
		return w.put(marker, value)
	})
	if err != nil {
		return 0, err
	}
	return s.finishMember(ctx, marker, value, workspaceID, userID, now)
}
