package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// An audit event names every token its change revoked, but one etcd
// request holds at most --max-request-bytes (1.5 MiB by default): about
// 55,000 token ids. A revocation that names more (the tokens of a user
// with very many, a removed member's) is recorded as its event naming the
// first storage.RevokedPerEvent tokens, followed in the chain by
// continuation events (storage.SplitRevoked), as on bbolt.
//
// The continuations are staged before the deciding write, each in a
// request of its own (P cleanup/audit/<group>/<n>, not yet honoured); the
// deciding write marks the group decided (P cleanup/audit/<group>) in the
// same transaction as the change and its event, and checks the staged
// continuations are still there. After it each continuation is appended
// to the chain and its staged copy deleted in one transaction, so none is
// appended twice. A process that dies after the decision leaves the group
// decided, and the next start appends what is left (finishCleanups); one
// that dies before it leaves an undecided group, which the next start
// deletes (a decision racing that deletion fails its check and the call
// fails, revoking nothing).

// continuation is a staged group of continuation events.
type continuation struct {
	id    string
	parts int
}

// errContinuationGone fails a decision whose staged continuations were
// deleted before it committed.
var errContinuationGone = errors.New("the staged continuation of the audit event was deleted before the revocation was decided; nothing was revoked, try again")

// stageContinuation prepares the audit event of ctx to name recs, the
// tokens a change about to be decided revokes. It returns the tokens the
// event itself names (storage.NoteRevoked in the deciding transaction) and,
// when there are more than one event holds, the staged group of
// continuations naming the rest (nil otherwise).
func (s *Store) stageContinuation(ctx context.Context, recs []*storagepb.TokenRecord) ([]*storagepb.TokenRecord, *continuation, error) {
	per := s.idsPerEvent
	if per <= 0 {
		per = storage.RevokedPerEvent
	}
	pending := audit.FromContext(ctx)
	if !pending.Unrecorded() || len(recs) <= per {
		return recs, nil, nil
	}
	// Named first, so that an event recorded only if it revokes
	// something (audit.Pending.OnlyIfRevoked) has a draft to split.
	pending.SetRevoked(idsOf(recs))
	draft := pending.Draft()
	if draft == nil {
		return recs, nil, nil
	}
	rest := storage.SplitRevoked(draft, per)
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, nil, err
	}
	g := &continuation{id: hex.EncodeToString(nonce[:])}
	for _, ev := range rest {
		v, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
		if err != nil {
			return nil, nil, fmt.Errorf("encode audit continuation: %w", err)
		}
		g.parts++
		pctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
		_, err = s.cli.Put(pctx, s.k.auditPart(g.id, g.parts), string(v))
		cancel()
		if err != nil {
			s.dropContinuation(ctx, g)
			return nil, nil, fmt.Errorf("stage audit continuation: %w", unavailable(ctx, err))
		}
	}
	return recs[:per], g, nil
}

// decide marks g decided in x, the deciding transaction, guarded by its
// first staged continuation. A nil g does nothing.
func (s *Store) decideContinuation(x *txn, g *continuation) error {
	if g == nil {
		return nil
	}
	ok, err := x.exists(s.k.auditPart(g.id, 1))
	if err != nil {
		return err
	}
	if !ok {
		return errContinuationGone
	}
	x.putRaw(s.k.auditGroup(g.id), "decided")
	return nil
}

// dropContinuation deletes an undecided group, after a decision that
// failed; a failure to delete leaves it to the next start.
func (s *Store) dropContinuation(ctx context.Context, g *continuation) {
	if g == nil {
		return
	}
	dctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(context.WithoutCancel(ctx)), s.writeTimeout)
	defer cancel()
	_, _ = s.cli.Delete(dctx, s.k.auditParts(g.id), clientv3.WithPrefix())
}

// appendContinuations appends the staged continuations of the decided
// group id to the audit chain, in order, then deletes the group's mark.
// Each is appended like any audited write's event (taking this process's
// turn on the chain head) by the transaction that deletes its staged copy,
// so another process finishing the same group at once appends none twice.
func (s *Store) appendContinuations(ctx context.Context, id string) error {
	resp, err := s.rget(ctx, s.k.auditParts(id), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return unavailable(ctx, err)
	}
	for _, kv := range resp.Kvs {
		key := string(kv.Key)
		ev, err := decode[pb.AuditEvent](kv.Value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		cctx, _ := audit.NewContext(ctx, ev)
		_, err = s.update(cctx, "record audit continuation", func(x *txn) error {
			ok, err := x.exists(key)
			if err == nil && !ok {
				err = errAppended
			}
			if err != nil {
				return err
			}
			x.del(key)
			return nil
		})
		if err != nil && !errors.Is(err, errAppended) {
			return err
		}
	}
	dctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.writeTimeout)
	defer cancel()
	if _, err := s.cli.Delete(dctx, s.k.auditGroup(id)); err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

// errAppended ends the append of a continuation another process appended.
var errAppended = errors.New("continuation already appended")

// finishContinuations, at start, appends the continuations of every
// decided group and deletes every undecided one.
func (s *Store) finishContinuations(ctx context.Context) error {
	p := s.k.auditGroups()
	resp, err := s.rget(ctx, p, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return unavailable(ctx, err)
	}
	decided := map[string]bool{}
	var groups []string
	for _, kv := range resp.Kvs {
		rest := string(kv.Key[len(p):])
		id, _, isPart := strings.Cut(rest, "/")
		if !isPart {
			decided[id] = true
		}
		if len(groups) == 0 || groups[len(groups)-1] != id {
			groups = append(groups, id)
		}
	}
	for _, id := range groups {
		if !decided[id] {
			s.dropContinuation(ctx, &continuation{id: id})
			continue
		}
		if err := s.appendContinuations(ctx, id); err != nil {
			return fmt.Errorf("append audit continuations: %w", err)
		}
		s.log.Info("etcd: appended the audit continuations of a revocation", "group", id)
	}
	return nil
}
