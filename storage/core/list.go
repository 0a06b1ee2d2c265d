package core

import (
	"context"
	"fmt"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// ListTokens returns the workspace's tokens newest first: ids less than
// before (all when before is ""), at most limit (all when limit <= 0).
// Tokens revoked by now are left out unless includeRevoked. ErrNotFound
// if the workspace does not exist.
func (s *Store) ListTokens(ctx context.Context, workspaceID, before string, limit int, includeRevoked bool, now time.Time) ([]*storagepb.TokenRecord, error) {
	return s.ListTokensMatching(ctx, workspaceID, before, limit, func(t *pb.Token) bool {
		return includeRevoked || !lifecycle.RevokedBy(t, now)
	})
}

// listPage is how many workspace entries a list reads at a time.
const listPage = 128

// ListTokensMatching returns, newest first, the workspace's tokens with ids
// less than before for which match is true (nil: all), at most limit (all
// when limit <= 0), each with its last use. Records that do not match do
// not count against limit: a filter that matches little may walk the whole
// workspace. match runs inside a read transaction: quick, and never
// calling the Store. ErrNotFound if the workspace does not exist.
func (s *Store) ListTokensMatching(ctx context.Context, workspaceID, before string, limit int, match func(*pb.Token) bool) ([]*storagepb.TokenRecord, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	prefix := workspaceTokens.children(workspaceID)
	var out []*storagepb.TokenRecord
	err := s.view(ctx, func(r reader) error {
		out = nil
		if err := needWorkspace(r, workspaceID); err != nil {
			return err
		}
		for cursor := before; ; {
			var ids []string
			err := r.eachReverse(prefix, cursor, listPage, func(k, _ []byte) error {
				ids = append(ids, string(k))
				return nil
			})
			if err != nil {
				return err
			}
			for _, id := range ids {
				rec, err := tokenByID(r, id)
				if err != nil {
					return err
				}
				if rec == nil {
					return fmt.Errorf("token %q indexed in workspace %q but missing", id, workspaceID)
				}
				if match != nil && !match(rec.GetToken()) {
					continue
				}
				if err := mergeUsed(r, rec); err != nil {
					return err
				}
				out = append(out, rec)
				if limit > 0 && len(out) >= limit {
					return nil
				}
			}
			if len(ids) < listPage {
				return nil
			}
			cursor = ids[len(ids)-1]
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
