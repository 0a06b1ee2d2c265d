package core

import (
	"context"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// UpdateToken changes a token in one commit: change edits the stored
// token in place, given its workspace's token policy, or refuses with an
// error (nothing is written); it may run more than once, each time on a
// fresh copy. A revoked token is refused (lifecycle.ErrRevoked) before
// change runs. When change flips disabled, every descendant follows in
// the same commit. The id, workspace, user, secret, family links and
// revocation cannot change. It returns the record after the change, with
// its last use; ErrNotFound if absent or in another workspace.
func (s *Store) UpdateToken(ctx context.Context, workspaceID, tokenID string, now time.Time, change func(t *pb.Token, p *pb.TokenPolicy) error) (*storagepb.TokenRecord, error) {
	if err := checkPair("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var out *storagepb.TokenRecord
	err := s.update(ctx, func(w writer) error {
		out = nil
		rec, err := getToken(w.reader, workspaceID, tokenID)
		if err != nil {
			return reject(err)
		}
		if err := lifecycle.Changeable(rec.Token, now); err != nil {
			return reject(err)
		}
		policy, err := tokenPolicy(w.reader, workspaceID)
		if err != nil {
			return reject(err)
		}
		t := rec.Token
		flipped, err := storage.ChangeToken(t, policy, change)
		if err != nil {
			return reject(err)
		}
		chain := []*storagepb.TokenRecord{rec}
		if flipped {
			if chain, err = descendants(w.reader, rec); err != nil {
				return reject(err)
			}
			for _, r := range chain[1:] {
				r.Token.Disabled = t.Disabled
			}
		}
		for _, r := range chain {
			if err := rewriteToken(w, r); err != nil {
				return err
			}
		}
		out = rec
		return mergeUsed(w.reader, rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
