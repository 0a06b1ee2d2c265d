package core

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

// errReused ends a roll's transaction that found its token already
// replaced; the family is revoked after it, split if need be (revoke).
var errReused = errors.New("token reused")

// RollToken replaces a token by a new one in one commit, by the lifecycle
// package's rules (Successor, Retire): the old one is revoked grace from
// now and its own predecessor, if still in its grace, stops now, so at
// most one predecessor works at a time. It returns both records with their
// last use.
//
// Errors: ErrNotFound if the old token does not exist (or is in another
// workspace); lifecycle.ErrRevoked, ErrExpired or ErrDisabled if it cannot
// be rolled; ErrNotMember if its user left the workspace. A token already
// replaced means its secret is used twice: the whole family is revoked
// (REVOKE_REASON_REUSE_DETECTED), committed, and the error wraps
// lifecycle.ErrReused; unless r.RepeatWithin makes it a retry of the
// refresh that replaced it: then nothing changes and next is that successor.
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
	var reused error
	var wsID string
	keys := [][]byte{tokens.key(r.OldID), tokens.key(r.Next.Token.TokenId), tokenHashes.raw(r.Next.SecretHash)}
	if r.WorkspaceID != "" {
		keys = append(keys, workspaces.key(r.WorkspaceID))
	}
	err = s.updateReading(ctx, keys, func(w writer) error {
		reused, old, next = nil, nil, nil
		o, err := tokenByID(w.reader, r.OldID)
		if err != nil {
			return reject(err)
		}
		if o == nil || r.WorkspaceID != "" && o.Token.WorkspaceId != r.WorkspaceID {
			return reject(fmt.Errorf("token %q: %w", r.OldID, storage.ErrNotFound))
		}
		s.feed.decided.overlay(o.Token) // a split revocation decided counts already
		policy, err := tokenPolicy(w.reader, o.Token.WorkspaceId)
		if err != nil {
			return reject(err)
		}
		if err := lifecycle.Rollable(o.Token, policy, now); err != nil {
			if !errors.Is(err, lifecycle.ErrReused) {
				return reject(err)
			}
			n, err2 := repeatOf(w.reader, o, policy, r, now)
			if err2 != nil {
				return reject(err2)
			}
			if n != nil {
				audit.FromContext(ctx).SetTarget(o.Token.WorkspaceId, n.Token.TokenId)
				old, next = o, n
				return mergeUsed(w.reader, o, n)
			}
			reused, wsID = err, o.Token.WorkspaceId
			return reject(errReused)
		}
		exp, err := lifecycle.Limits{Policy: policy, Ceiling: r.Ceiling}.Roll(o.Token, now)
		if err != nil {
			return reject(err)
		}
		n := proto.CloneOf(r.Next)
		lifecycle.Successor(o.Token, n.Token)
		n.Token.ExpireTime = nil
		if !exp.IsZero() {
			n.Token.ExpireTime = timestamppb.New(exp)
		}
		if err := checkTokenFree(w.reader, n.Token, n.SecretHash); err != nil {
			return reject(err)
		}
		val, err := storage.CheckNewToken(n)
		if err != nil {
			return reject(err)
		}
		if err := insertToken(w, n.Token, n.SecretHash, val); err != nil {
			return err
		}
		if prev := o.Token.GetReplaces(); prev != "" {
			// Its grace ends now; o and n live on, so it is revoked alone.
			p, err := tokenByID(w.reader, prev)
			if err != nil {
				return err
			}
			if p != nil {
				if _, err := revokeRecord(w, p, now, pb.RevokeReason_REVOKE_REASON_ROLLED); err != nil {
					return err
				}
			}
		}
		lifecycle.Retire(o.Token, n.Token.TokenId, now, r.Grace)
		if err := rewriteToken(w, o); err != nil {
			return err
		}
		old, next = o, n
		return mergeUsed(w.reader, o)
	})
	if errors.Is(err, errReused) {
		// The event names the reused token and the family it cost, revoked
		// from its oldest stored member on.
		audit.FromContext(ctx).SetTarget(wsID, r.OldID)
		_, err := s.revoke(ctx, "", func(rd reader) ([]*storagepb.TokenRecord, error) {
			o, err := tokenByID(rd, r.OldID)
			if err != nil || o == nil {
				return nil, err
			}
			up, err := chain(rd, o, (*pb.Token).GetReplaces)
			return up[len(up)-1:], err
		}, now, pb.RevokeReason_REVOKE_REASON_REUSE_DETECTED)
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, reused
	}
	if err != nil {
		return nil, nil, err
	}
	return old, next, nil
}

// repeatOf returns the successor of o when rolling o again is a retry of
// the refresh that made it (lifecycle.RepeatRefresh), else nil.
func repeatOf(r reader, o *storagepb.TokenRecord, policy *pb.TokenPolicy, roll storage.Roll, now time.Time) (*storagepb.TokenRecord, error) {
	if roll.RepeatWithin <= 0 {
		return nil, nil
	}
	n, err := tokenByID(r, o.Token.GetReplacedBy())
	if err != nil || n == nil || !lifecycle.RepeatRefresh(o.Token, n.Token, policy, roll.RepeatWithin, now) {
		return nil, err
	}
	return n, nil
}
