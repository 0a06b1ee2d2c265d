package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// tokenByID reads a token record in x; nil when absent.
func (s *Store) tokenByID(x *txn, id string) (*storagepb.TokenRecord, error) {
	kv, err := x.get(s.k.token(id))
	if err != nil || kv == nil {
		return nil, err
	}
	rec, err := decodeToken(kv.Value)
	if err != nil {
		return nil, fmt.Errorf("token %q: %w", id, err)
	}
	return rec, nil
}

// descendants returns rec and the stored tokens rolled from it, in order.
func (s *Store) descendants(x *txn, rec *storagepb.TokenRecord) ([]*storagepb.TokenRecord, error) {
	out := []*storagepb.TokenRecord{rec}
	seen := map[string]bool{rec.Token.TokenId: true}
	for next := rec.Token.GetReplacedBy(); next != "" && !seen[next]; {
		r, err := s.tokenByID(x, next)
		if err != nil || r == nil {
			return out, err
		}
		seen[next] = true
		out = append(out, r)
		next = r.Token.GetReplacedBy()
	}
	return out, nil
}

// tokenPolicy reads the token policy of a workspace in x; nil when the
// workspace has none or is gone.
func (s *Store) tokenPolicy(x *txn, workspaceID string) (*pb.TokenPolicy, error) {
	kv, err := x.get(s.k.workspace(workspaceID))
	if err != nil || kv == nil {
		return nil, err
	}
	ws, err := decode[pb.Workspace](kv.Value)
	if err != nil {
		return nil, err
	}
	return ws.GetTokenPolicy(), nil
}

// errReuseFound ends the attempt of a roll that found its token reused:
// the family is revoked after it, in writes of their own.
var errReuseFound = errors.New("reuse found")

// RollToken stores the successor of a token and retires the old one, in
// one transaction guarded by every record it read. Rolling a token that
// was already rolled (a reused secret) revokes its whole family instead
// and returns an error wrapping lifecycle.ErrReused, unless r.RepeatWithin
// makes it a retry of the refresh that replaced it: then nothing changes
// and next is that successor.
func (s *Store) RollToken(ctx context.Context, r storage.Roll) (old, next *storagepb.TokenRecord, err error) {
	if err := storage.CheckID("token", r.OldID); err != nil {
		return nil, nil, err
	}
	if _, err := storage.CheckNewToken(r.Next); err != nil {
		return nil, nil, err
	}
	if r.Next.Token.GetCreateTime() == nil {
		return nil, nil, fmt.Errorf("token %q: no create time: %w", r.Next.Token.TokenId, storage.ErrInvalid)
	}
	if r.Grace < 0 {
		return nil, nil, fmt.Errorf("token %q: negative grace: %w", r.OldID, storage.ErrInvalid)
	}
	now := r.Next.Token.CreateTime.AsTime()
	var (
		reused error
		family []string
		wsID   string
	)
	_, err = s.update(ctx, "roll token", func(x *txn) error {
		reused, family, old, next = nil, nil, nil, nil
		o, err := s.tokenByID(x, r.OldID)
		if err != nil {
			return err
		}
		if o == nil || r.WorkspaceID != "" && o.Token.WorkspaceId != r.WorkspaceID {
			return fmt.Errorf("token %q: %w", r.OldID, storage.ErrNotFound)
		}
		// A token a decided revocation names is revoked, even before
		// its record says so.
		pending, err := s.pendingIn(x)
		if err != nil {
			return err
		}
		okv, err := x.get(s.k.token(r.OldID)) // read above: no round trip
		if err != nil {
			return err
		}
		applyPending(o.Token, okv.CreateRevision, pending)
		policy, err := s.tokenPolicy(x, o.Token.WorkspaceId)
		if err != nil {
			return err
		}
		if err := lifecycle.Rollable(o.Token, policy, now); err != nil {
			if !errors.Is(err, lifecycle.ErrReused) {
				return err
			}
			if n, err := s.repeatOf(x, o, policy, pending, r, now); err != nil || n != nil {
				if n != nil {
					audit.FromContext(ctx).SetTarget(o.Token.WorkspaceId, n.Token.TokenId)
					old, next = o, n
				}
				return err
			}
			reused = err
			family, wsID = []string{lifecycle.FamilyID(o.Token), o.Token.TokenId}, o.Token.WorkspaceId
			return errReuseFound
		}
		exp, err := lifecycle.Limits{Policy: policy, Ceiling: r.Ceiling}.Roll(o.Token, now)
		if err != nil {
			return err
		}
		n := proto.CloneOf(r.Next)
		lifecycle.Successor(o.Token, n.Token)
		n.Token.ExpireTime = nil
		if !exp.IsZero() {
			n.Token.ExpireTime = timestamppb.New(exp)
		}
		if err := s.checkTokenFree(x, n.Token, n.SecretHash); err != nil {
			return err
		}
		val, err := storage.CheckNewToken(n)
		if err != nil {
			return err
		}
		s.insertToken(x, n.Token, n.SecretHash, val)
		if prev := o.Token.GetReplaces(); prev != "" {
			p, err := s.tokenByID(x, prev)
			if err != nil {
				return err
			}
			if p != nil && lifecycle.Revoke(p.Token, now, pb.RevokeReason_REVOKE_REASON_ROLLED) {
				if err := s.putToken(x, p); err != nil {
					return err
				}
			}
		}
		lifecycle.Retire(o.Token, n.Token.TokenId, now, r.Grace)
		if err := s.putToken(x, o); err != nil {
			return err
		}
		old, next = o, n
		return nil
	})
	if errors.Is(err, errReuseFound) {
		// The request's event records the detection: the reused token
		// and the family it cost. The family is revoked from its oldest
		// stored token on, like a bulk revocation (bulk.go), so a family
		// of any length is revoked: only its members still live are
		// written, in one transaction when they fit.
		audit.FromContext(ctx).SetTarget(wsID, r.OldID)
		keep := func(rec *storagepb.TokenRecord) bool { return lifecycle.FamilyID(rec.Token) == family[0] }
		if _, err := s.revokeAll(ctx, "revoke reused family", nil, family, keep, now, pb.RevokeReason_REVOKE_REASON_REUSE_DETECTED, "", ""); err != nil {
			return nil, nil, err
		}
		return nil, nil, reused
	}
	if err != nil {
		return nil, nil, err
	}
	return old, next, nil
}

// UpdateToken applies change to a token, under its workspace's policy, in
// one guarded transaction; a change of Disabled is carried to the token's
// descendants in the same transaction. change may run more than once.
func (s *Store) UpdateToken(ctx context.Context, workspaceID, tokenID string, now time.Time, change func(t *pb.Token, p *pb.TokenPolicy) error) (*storagepb.TokenRecord, error) {
	if err := checkIDs("workspace", workspaceID, "token", tokenID); err != nil {
		return nil, err
	}
	var out *storagepb.TokenRecord
	_, err := s.update(ctx, "update token", func(x *txn) error {
		out = nil
		kv, err := x.get(s.k.token(tokenID))
		if err != nil {
			return err
		}
		rec, err := tokenIn(kv, workspaceID, tokenID)
		if err != nil {
			return err
		}
		if err := lifecycle.Changeable(rec.Token, now); err != nil {
			return err
		}
		policy, err := s.tokenPolicy(x, workspaceID)
		if err != nil {
			return err
		}
		t := rec.Token
		flipped, err := storage.ChangeToken(t, policy, change)
		if err != nil {
			return err
		}
		chain := []*storagepb.TokenRecord{rec}
		if flipped {
			if chain, err = s.descendants(x, rec); err != nil {
				return err
			}
			for _, r := range chain[1:] {
				r.Token.Disabled = t.Disabled
			}
		}
		for _, r := range chain {
			if err := s.putToken(x, r); err != nil {
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

// UpdateWorkspace applies change to a workspace in one guarded
// transaction; change may run more than once.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, change func(ws *pb.Workspace) error) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	var out *pb.Workspace
	_, err := s.update(ctx, "update workspace", func(x *txn) error {
		out = nil
		kv, err := x.get(s.k.workspace(id))
		if err != nil {
			return err
		}
		if kv == nil {
			return fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound)
		}
		ws, err := decode[pb.Workspace](kv.Value)
		if err != nil {
			return err
		}
		created := ws.GetCreateTime().AsTime()
		if err := change(ws); err != nil {
			return err
		}
		if ws.GetWorkspaceId() != id || !ws.GetCreateTime().AsTime().Equal(created) {
			return fmt.Errorf("workspace %q: an immutable field was changed: %w", id, storage.ErrInvalid)
		}
		out = ws
		return x.put(s.k.workspace(id), ws)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetTokenPolicy returns a workspace's token policy (nil: none).
func (s *Store) GetTokenPolicy(ctx context.Context, workspaceID string) (*pb.TokenPolicy, error) {
	ws, err := s.GetWorkspace(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return ws.GetTokenPolicy(), nil
}

// repeatOf returns the successor of o when rolling o again is a retry of
// the refresh that made it (lifecycle.RepeatRefresh), else nil. A decided
// revocation naming the successor counts, as for o.
func (s *Store) repeatOf(x *txn, o *storagepb.TokenRecord, policy *pb.TokenPolicy, pending []*revocation, r storage.Roll, now time.Time) (*storagepb.TokenRecord, error) {
	if r.RepeatWithin <= 0 {
		return nil, nil
	}
	id := o.Token.GetReplacedBy()
	n, err := s.tokenByID(x, id)
	if err != nil || n == nil {
		return nil, err
	}
	kv, err := x.get(s.k.token(id)) // read above: no round trip
	if err != nil {
		return nil, err
	}
	applyPending(n.Token, kv.CreateRevision, pending)
	if !lifecycle.RepeatRefresh(o.Token, n.Token, policy, r.RepeatWithin, now) {
		return nil, nil
	}
	return n, nil
}
