package etcd

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// tokensPerBatch bounds the tokens one clean-up transaction deletes: each
// costs up to five operations (record, hash, workspace entry, seed, seed
// link) and one comparison.
const tokensPerBatch = 20

func rangeOpts(end string, limit int64) []clientv3.OpOption {
	return []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(limit)}
}

// cleanWorkspace finishes the deletion of a workspace whose clean-up record
// exists: its tokens in bounded batches, then its members, zoos and index
// entries (range deletions, one operation each) with the record.
func (s *Store) cleanWorkspace(ctx context.Context, id string) error {
	marker, err := s.get(ctx, s.k.wsCleanup(id))
	if err != nil || marker == nil {
		return err
	}
	prefix := s.k.wsTokens(id)
	for {
		var more bool
		_, err := s.update(ctx, "delete workspace tokens", func(x *txn) error {
			kvs, err := x.list(prefix, prefixEnd(prefix), tokensPerBatch, clientv3.WithKeysOnly())
			if err != nil {
				return err
			}
			more = len(kvs) > 0
			for _, kv := range kvs {
				tid := string(kv.Key[len(prefix):])
				tkv, err := x.get(s.k.token(tid))
				if err != nil {
					return err
				}
				if tkv == nil {
					x.del(string(kv.Key))
					continue
				}
				rec, err := decodeToken(tkv.Value)
				if err != nil {
					return err
				}
				if err := s.deleteToken(x, rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	_, err = s.update(ctx, "delete workspace", func(x *txn) error {
		if ok, err := x.exists(s.k.workspace(id)); err != nil || ok {
			if ok {
				return fmt.Errorf("workspace %q was re-created during its clean-up", id)
			}
			return err
		}
		x.delPrefix(s.k.members(id))
		x.delPrefix(s.k.zoos(id))
		x.delPrefix(s.k.wsTokens(id))
		x.delPrefix(s.k.memberCleanup(id, ""))
		x.del(s.k.wsCleanup(id))
		return nil
	})
	return err
}

// finishMemberCleanup revokes, as of at, the tokens a member removed at
// revision rev had, then deletes the clean-up record written with the
// removal. Tokens created after the removal (the user was added again)
// are left alone.
func (s *Store) finishMemberCleanup(ctx context.Context, ws, user string, at time.Time, rev int64) (int, error) {
	ids, err := s.userTokens(ctx, ws, user, rev)
	if err != nil {
		return 0, err
	}
	recs, err := s.revokeByKey(ctx, ids, func(*storagepb.TokenRecord) bool { return true }, at, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED)
	if err != nil {
		return len(recs), err
	}
	marker := s.k.memberCleanup(ws, user)
	dctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
	defer cancel()
	if _, err := s.cli.Txn(dctx).If(clientv3.Compare(clientv3.ModRevision(marker), "=", rev)).Then(clientv3.OpDelete(marker)).Commit(); err != nil {
		return len(recs), unavailable(ctx, err)
	}
	return len(recs), nil
}

// finishCleanups finishes the clean-ups a process stopped before finishing.
func (s *Store) finishCleanups(ctx context.Context) error {
	p := s.k.cleanups()
	resp, err := s.rget(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return unavailable(ctx, err)
	}
	for _, kv := range resp.Kvs {
		rest := string(kv.Key[len(p):])
		switch {
		case strings.HasPrefix(rest, "ws/"):
			if err := s.cleanWorkspace(ctx, rest[len("ws/"):]); err != nil {
				return fmt.Errorf("finish deleting workspace %q: %w", rest[len("ws/"):], err)
			}
		case strings.HasPrefix(rest, "member/"):
			ws, user, ok := strings.Cut(rest[len("member/"):], sep)
			if !ok {
				continue
			}
			at, rev, err := parseMemberMarker(kv.Value, kv.ModRevision)
			if err != nil {
				return fmt.Errorf("clean-up record of member %q of %q: %w", user, ws, err)
			}
			n, err := s.finishMemberCleanup(ctx, ws, user, at, rev)
			if err != nil {
				return fmt.Errorf("finish removing member %q of %q: %w", user, ws, err)
			}
			s.log.Info("etcd: finished revoking the tokens of a removed member", "workspace", ws, "user", user, "revoked", n)
		case strings.HasPrefix(rest, "revoke/"):
			r, err := parseRevocation(kv.Value, kv.ModRevision)
			if err != nil {
				return fmt.Errorf("revocation record %s: %w", rest, err)
			}
			done, err := s.finishRevocation(ctx, string(kv.Key), r)
			if err != nil {
				return fmt.Errorf("finish a revocation of many tokens: %w", err)
			}
			s.log.Info("etcd: finished a revocation of many tokens", "rewritten", len(done))
		}
	}
	return nil
}

// lookupHashes returns the token ids of the secret hashes that are known.
func (s *Store) lookupHashes(ctx context.Context, hashes [][32]byte) ([]string, error) {
	ops := make([]clientv3.Op, len(hashes))
	for i, h := range hashes {
		ops[i] = clientv3.OpGet(s.k.hash(h[:]))
	}
	resp, err := s.rtxn(ctx, ops...)
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	var ids []string
	for _, r := range resp.Responses {
		if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
			ids = append(ids, string(kvs[0].Value))
		}
	}
	return ids, nil
}
