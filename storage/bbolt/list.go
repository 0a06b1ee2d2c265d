package bbolt

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// ListTokensMatching returns the workspace's tokens for which match is true,
// newest first: ids less than before (all when before is ""), descending, at
// most limit (all when limit <= 0). Records that do not match are skipped
// without counting against limit, so a page is full whenever enough matches
// exist; a filter that matches little may walk the whole workspace. match
// sees a record decoded for this call and runs inside a read transaction:
// it must be quick and must not call the Store. ErrNotFound if the workspace
// does not exist.
func (s *Store) ListTokensMatching(ctx context.Context, workspaceID, before string, limit int, match func(*pb.Token) bool) ([]*storagepb.TokenRecord, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	prefix := childPrefix(workspaceID)
	var out []*storagepb.TokenRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		out = nil
		if tx.Bucket(bucketWorkspaces).Get([]byte(workspaceID)) == nil {
			return fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
		}
		records := tx.Bucket(bucketTokens)
		c := tx.Bucket(bucketWorkspaceTokens).Cursor()
		var k []byte
		if before == "" {
			// The first key past this workspace's range, or the end.
			end := append(bytes.Clone(prefix[:len(prefix)-1]), sep+1)
			if k, _ = c.Seek(end); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		} else {
			// Seek lands on the first key >= before; everything wanted is
			// strictly below it.
			if k, _ = c.Seek(compositeKey(workspaceID, before)); k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if limit > 0 && len(out) >= limit {
				break
			}
			v := records.Get(k[len(prefix):])
			if v == nil {
				return fmt.Errorf("token %q indexed in workspace %q but missing", k[len(prefix):], workspaceID)
			}
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			if match != nil && !match(rec.GetToken()) {
				continue
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
