package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/validindex"
)

// feedState is how far the validation index has followed the change feed.
type feedState struct {
	mu    sync.Mutex
	rev   int64         // every change up to rev is applied
	moved chan struct{} // closed and replaced when rev moves
	// heard is when the feed last confirmed rev (unix nanos); every
	// validation on a shared engine reads it, so no lock.
	heard atomic.Int64
	idx   atomic.Pointer[validindex.Index]
	// decided overlays the index with split revocations under way.
	decided decided
}

func (f *feedState) advance(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev > f.rev {
		f.rev = rev
	}
	f.heard.Store(time.Now().UnixNano())
	close(f.moved)
	f.moved = make(chan struct{})
}

func (f *feedState) lag() time.Duration {
	return time.Duration(time.Now().UnixNano() - f.heard.Load())
}

// wait returns once the index holds rev (nil), bound (> 0) passes (nil)
// or ctx ends (its error).
func (f *feedState) wait(ctx context.Context, rev int64, bound time.Duration) error {
	var timeout <-chan time.Time
	if bound > 0 {
		t := time.NewTimer(bound)
		defer t.Stop()
		timeout = t.C
	}
	for {
		f.mu.Lock()
		done, moved := f.rev >= rev, f.moved
		f.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-moved:
		case <-timeout:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Store) index() *validindex.Index { return s.feed.idx.Load() }

// load builds the index in one read and returns the revision to follow the
// feed from: read first, so the feed may bring again what the load holds
// (applying a change twice is harmless), never miss it.
func (s *Store) load(ctx context.Context) (int64, error) {
	rev, err := s.e.Revision(ctx)
	if err != nil {
		return 0, fmt.Errorf("load the validation index: %w", err)
	}
	pending := map[string]decision{}
	x, err := validindex.Load(0, func(l *validindex.Loader) error {
		return s.e.View(ctx, func(tx storage.ReadTx) error {
			r := reader{tx}
			err := r.each(revokeCleanups.all(), "", 0, func(k, v []byte) error {
				if d, err := decodeDecision(v); err == nil {
					pending[string(revokeCleanups.key(string(k)))] = d
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = r.scan(workspaces.all(), "", func(k, v []byte) error {
				ws, err := decode[pb.Workspace](v)
				if err != nil {
					return fmt.Errorf("workspace %q: %w", k, err)
				}
				l.Workspace(string(k), ws.GetTokenPolicy())
				return nil
			})
			if err != nil {
				return err
			}
			err = r.scan(zoos.all(), "", func(k, v []byte) error {
				z, err := decode[pb.Zoo](v)
				if err != nil {
					return fmt.Errorf("zoo %q: %w", k, err)
				}
				if ws, id, ok := zoos.pair(append(zoos.all(), k...)); ok {
					l.Zoo(ws, id, z)
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = r.scan(members.all(), "", func(k, _ []byte) error {
				if ws, user, ok := members.pair(append(members.all(), k...)); ok {
					l.Member(ws, user)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return r.scan(tokens.all(), "", func(k, v []byte) error {
				if err := l.Encoded(v); err != nil {
					// Not indexable; an error only if it does not decode.
					if _, err := decodeToken(v); err != nil {
						return fmt.Errorf("token %q: %w", k, err)
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		return 0, fmt.Errorf("load the validation index: %w", err)
	}
	s.feed.idx.Store(x)
	s.feed.decided.reset(pending)
	s.feed.advance(rev)
	return rev, nil
}

// follow applies the feed to the index from rev until ctx ends, reloading
// the index when the feed lost its place.
func (s *Store) follow(ctx context.Context, rev int64) {
	defer close(s.followed)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(min(attempt, 20)) * 50 * time.Millisecond):
			}
		}
		ch, err := s.e.Changes(ctx, rev)
		for err == nil {
			b, ok := <-ch
			if !ok {
				return // ctx ended
			}
			if err = b.Err; err != nil {
				break
			}
			if len(b.Changes) > 0 {
				s.apply(b.Changes)
			}
			s.feed.advance(b.Revision)
			rev, attempt = max(rev, b.Revision), 0
		}
		if ctx.Err() != nil || errors.Is(err, storage.ErrClosed) {
			return
		}
		if errors.Is(err, storage.ErrCompacted) {
			s.log.Warn("change feed compacted past the index; reloading it", "revision", rev)
			if rev, err = s.load(ctx); err != nil {
				s.log.Error("reload the validation index", "error", err)
			}
			continue
		}
		s.log.Warn("change feed ended; following it again", "revision", rev, "error", err)
	}
}

// apply makes one transaction's changes visible to validation.
func (s *Store) apply(changes []storage.Change) {
	b := &validindex.Batch{}
	for _, ch := range changes {
		k := ch.Key
		switch {
		case hasKind(k, tokens) && !ch.Delete: // it leaves with its hash (deleteToken deletes both)
			if _, err := b.PutEncoded(ch.Value); err != nil {
				s.log.Error("token record not indexable", "key", string(k[len(tokens):]), "error", err)
			}
		case hasKind(k, tokenHashes):
			if ch.Delete && len(k) == len(tokenHashes)+32 {
				b.DeleteToken([32]byte(k[len(tokenHashes):]))
			}
		case hasKind(k, members):
			if ws, user, ok := members.pair(k); ok {
				b.SetMember(ws, user, !ch.Delete)
			}
		case hasKind(k, workspaces):
			id := string(k[len(workspaces):])
			if ch.Delete {
				b.DeleteWorkspace(id)
				continue
			}
			ws, err := decode[pb.Workspace](ch.Value)
			if err != nil {
				s.log.Error("workspace record not indexable", "workspace", id, "error", err)
				continue
			}
			b.PutWorkspace(id, ws.GetTokenPolicy())
		case hasKind(k, revokeCleanups):
			s.feed.decided.note(string(k), ch.Value, ch.Delete)
		case hasKind(k, zoos):
			ws, id, ok := zoos.pair(k)
			if !ok {
				continue
			}
			if ch.Delete {
				b.DeleteZoo(ws, id)
				continue
			}
			z, err := decode[pb.Zoo](ch.Value)
			if err != nil {
				s.log.Error("zoo record not indexable", "workspace", ws, "zoo", id, "error", err)
				continue
			}
			b.PutZoo(ws, id, z)
		}
	}
	if !b.Empty() {
		s.index().Apply(b)
	}
}

// stale reports whether the index may miss changes older than MaxStaleness.
func (s *Store) stale() bool {
	return s.opts.MaxStaleness > 0 && s.feed.lag() > s.opts.MaxStaleness
}

// errUnknownToken is made once: a flood of unknown tokens needs it fast.
var errUnknownToken = fmt.Errorf("token: %w", storage.ErrNotFound)

// LookupToken is LookupTokenWithPolicy without the policy.
func (s *Store) LookupToken(ctx context.Context, secretHash [32]byte) (*storagepb.TokenRecord, bool, error) {
	rec, member, _, err := s.LookupTokenWithPolicy(ctx, secretHash)
	return rec, member, err
}

// LookupTokenWithPolicy answers validation from the index: the token of
// secretHash (without its sealed secret), whether its user is a member, and
// its workspace's policy (shared: never change it). A stale index, and a
// miss within MissReads, read the engine. ErrNotFound if there is none.
func (s *Store) LookupTokenWithPolicy(ctx context.Context, secretHash [32]byte) (*storagepb.TokenRecord, bool, *pb.TokenPolicy, error) {
	if err := s.check(ctx); err != nil {
		return nil, false, nil, err
	}
	if !s.stale() {
		// One allocation: the record, its token and their decode memory.
		if rec, member, policy, ok := s.index().Lookup(secretHash); ok {
			s.feed.decided.overlay(rec.Token)
			return rec, member, policy, nil
		}
		if s.misses == nil || !s.misses.Allow() {
			return nil, false, nil, errUnknownToken
		}
	}
	rec := new(storagepb.TokenRecord)
	member, policy, err := s.readThrough(ctx, secretHash, rec)
	if err != nil {
		return nil, false, nil, err
	}
	return rec, member, policy, nil
}

// LookupTokenInto is LookupTokenWithPolicy decoding into the caller's rec:
// no allocation on the index's path.
func (s *Store) LookupTokenInto(ctx context.Context, secretHash [32]byte, rec *storagepb.TokenRecord) (bool, *pb.TokenPolicy, error) {
	if err := s.check(ctx); err != nil {
		return false, nil, err
	}
	if !s.stale() {
		if member, policy, ok := s.index().LookupInto(secretHash, rec); ok {
			s.feed.decided.overlay(rec.Token)
			return member, policy, nil
		}
		if s.misses == nil || !s.misses.Allow() {
			return false, nil, errUnknownToken
		}
	}
	return s.readThrough(ctx, secretHash, rec)
}

// readThrough answers a lookup from the engine.
func (s *Store) readThrough(ctx context.Context, secretHash [32]byte, rec *storagepb.TokenRecord) (member bool, policy *pb.TokenPolicy, err error) {
	err = s.view(ctx, func(r reader) error {
		id, err := r.get(tokenHashes.raw(secretHash[:]))
		if err != nil {
			return err
		}
		if id == nil {
			return fmt.Errorf("token: %w", storage.ErrNotFound)
		}
		got, err := getMsg[storagepb.TokenRecord](r, tokens.key(string(id)))
		if err != nil {
			return err
		}
		if got == nil || got.Token == nil {
			return fmt.Errorf("token: %w", storage.ErrNotFound)
		}
		got.SealedSecret = nil
		ws, err := getMsg[pb.Workspace](r, workspaces.key(got.Token.WorkspaceId))
		if err != nil {
			return err
		}
		if member, err = r.has(members.key(got.Token.WorkspaceId, got.Token.UserId)); err != nil {
			return err
		}
		// As in the index: a workspace that is gone has no members.
		member = member && ws != nil
		policy = ws.GetTokenPolicy()
		rec.Reset()
		rec.Token, rec.SecretHash = got.Token, got.SecretHash
		s.feed.decided.overlay(rec.Token)
		return nil
	})
	return member, policy, err
}

// LookupZoo returns a zoo (shared: never change it) from the index, or the
// engine as LookupTokenWithPolicy does. ErrNotFound if it does not exist.
func (s *Store) LookupZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if !s.stale() {
		if z, ok := s.index().Zoo(workspaceID, zooID); ok {
			return z, nil
		}
		if s.misses == nil || !s.misses.Allow() {
			return nil, fmt.Errorf("zoo %q in workspace %q: %w", zooID, workspaceID, storage.ErrNotFound)
		}
	}
	return s.GetZoo(ctx, workspaceID, zooID)
}

// Counts returns how many tokens and workspaces the validation index holds.
func (s *Store) Counts(ctx context.Context) (tokens, workspaces int, err error) {
	if err := s.check(ctx); err != nil {
		return 0, 0, err
	}
	x := s.index()
	return x.Len(), x.Workspaces(), nil
}
