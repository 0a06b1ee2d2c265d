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

// UpdateToken changes a token in one commit. change receives the stored
// token and its workspace's token policy and edits the token in place, or
// returns an error to refuse (nothing is written). It may run more than
// once, each time on a fresh copy. A revoked token is refused with an error
// wrapping lifecycle.ErrRevoked before change runs. When change flips
// disabled, every token descended from this one follows, in the same
// commit: disabling the original of a refresh chain disables the chain.
// The token's id, workspace, user, secret, family links and revocation
// cannot be changed (revocations go through the revoke paths). It returns
// the record after the change; ErrNotFound if absent or in another
// workspace.
func (s *Store) UpdateToken(ctx context.Context, workspaceID, tokenID string, now time.Time, change func(t *pb.Token, p *pb.TokenPolicy) error) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var out *storagepb.TokenRecord
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		rec, err := getToken(tx, workspaceID, tokenID)
		if err != nil {
			return reject(err)
		}
		if err := lifecycle.Changeable(rec.Token, now); err != nil {
			return reject(err)
		}
		policy, err := tokenPolicy(tx, workspaceID)
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
			if chain, err = descendants(tx, rec); err != nil {
				return reject(err)
			}
			for _, r := range chain[1:] {
				r.Token.Disabled = t.Disabled
			}
		}
		for _, r := range chain {
			if err := s.rewriteToken(tx, r); err != nil {
				return err
			}
		}
		out = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateWorkspace changes a workspace in one commit. change receives the
// stored workspace and edits it in place, or returns an error to refuse
// (nothing is written); it may run more than once, each time on a fresh
// copy. The workspace id and create time cannot be changed. ErrNotFound if
// absent.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, change func(ws *pb.Workspace) error) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	var out *pb.Workspace
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketWorkspaces)
		v := b.Get([]byte(id))
		if v == nil {
			return reject(fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound))
		}
		ws, err := decode[pb.Workspace](v)
		if err != nil {
			return reject(err)
		}
		created := ws.GetCreateTime().AsTime()
		if err := change(ws); err != nil {
			return reject(err)
		}
		if ws.GetWorkspaceId() != id || !ws.GetCreateTime().AsTime().Equal(created) {
			return reject(fmt.Errorf("workspace %q: an immutable field was changed: %w", id, storage.ErrInvalid))
		}
		val, err := encode(ws)
		if err != nil {
			return reject(err)
		}
		s.j.workspace([]byte(id))
		if err := b.Put([]byte(id), val); err != nil {
			return err
		}
		out = ws
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errTokenBySecret is LookupTokenWithPolicy's miss, made once: a miss is
// as hot as a hit.
var errTokenBySecret = fmt.Errorf("token by secret: %w", storage.ErrNotFound)

// LookupTokenWithPolicy is LookupToken that also returns the token
// policy of the token's workspace (nil: none), as of one commit, so that a
// verdict applies the policy in force. It answers from the validation
// index (validindex), without a transaction. The record holds the token
// and the secret hash but not the sealed secret (GetToken reads that); its
// strings share the index's memory; the record is the caller's own. The
// policy is shared with every other lookup and must not be changed.
func (s *Store) LookupTokenWithPolicy(ctx context.Context, secretHash [32]byte) (rec *storagepb.TokenRecord, member bool, policy *pb.TokenPolicy, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, nil, err
	}
	if s.closed.Load() {
		return nil, false, nil, storage.ErrClosed
	}
	rec, member, policy, ok := s.index.Lookup(secretHash)
	if !ok {
		return nil, false, nil, errTokenBySecret
	}
	return rec, member, policy, nil
}

// LookupTokenInto is LookupTokenWithPolicy decoding into rec, a record the
// caller owns and may reuse (see validindex.Index.LookupInto): a caller
// that reuses one allocates nothing. On a miss rec is left as it was.
func (s *Store) LookupTokenInto(ctx context.Context, secretHash [32]byte, rec *storagepb.TokenRecord) (member bool, policy *pb.TokenPolicy, err error) {
	if err := ctx.Err(); err != nil {
		return false, nil, err
	}
	if s.closed.Load() {
		return false, nil, storage.ErrClosed
	}
	member, policy, ok := s.index.LookupInto(secretHash, rec)
	if !ok {
		return false, nil, errTokenBySecret
	}
	return member, policy, nil
}

// GetTokenPolicy returns a workspace's token policy (nil: none);
// ErrNotFound if the workspace does not exist.
func (s *Store) GetTokenPolicy(ctx context.Context, workspaceID string) (*pb.TokenPolicy, error) {
	ws, err := s.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return ws.GetTokenPolicy(), nil
}
