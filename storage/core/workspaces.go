package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateWorkspace stores ws; ErrAlreadyExists if its id is taken,
// ErrUnavailable while a deletion of that id is unfinished (its marker): it
// would go on into the new workspace.
func (s *Store) CreateWorkspace(ctx context.Context, ws *pb.Workspace) error {
	if ws == nil {
		return fmt.Errorf("nil workspace: %w", storage.ErrInvalid)
	}
	id := ws.GetWorkspaceId()
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	return s.create(ctx, fmt.Sprintf("workspace %q", id), "", workspaces.key(id), workspaceCleanups.key(id), "its earlier deletion", ws)
}

// GetWorkspace returns the workspace; ErrNotFound if absent.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	return getOne[pb.Workspace](ctx, s, workspaces.key(id), fmt.Sprintf("workspace %q", id))
}

// ListWorkspaces returns workspaces with ids after after, ascending, at most
// limit (<= 0: all).
func (s *Store) ListWorkspaces(ctx context.Context, after string, limit int) ([]*pb.Workspace, error) {
	return viewed(ctx, s, func(r reader) ([]*pb.Workspace, error) {
		return listAfter[pb.Workspace](r, workspaces.all(), after, limit)
	})
}

// UpdateWorkspace changes a workspace in one commit: change edits it in
// place or refuses with an error (nothing written), and may run more than
// once, each time on a fresh copy. The id and create time cannot change.
// ErrNotFound if absent.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, change func(ws *pb.Workspace) error) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	return modify(ctx, s, workspaces.key(id), fmt.Sprintf("workspace %q", id), func(ws *pb.Workspace) error {
		created := ws.GetCreateTime().AsTime()
		if err := change(ws); err != nil {
			return err
		}
		if ws.GetWorkspaceId() != id || !ws.GetCreateTime().AsTime().Equal(created) {
			return fmt.Errorf("workspace %q: an immutable field was changed: %w", id, storage.ErrInvalid)
		}
		return nil
	})
}

// GetTokenPolicy returns a workspace's token policy (nil: none);
// ErrNotFound without the workspace.
func (s *Store) GetTokenPolicy(ctx context.Context, workspaceID string) (*pb.TokenPolicy, error) {
	ws, err := s.GetWorkspace(ctx, workspaceID)
	return ws.GetTokenPolicy(), err // nil-safe: ws is nil on error
}

// DeleteWorkspace deletes the workspace; ErrNotFound if absent. One with
// members, zoos or tokens is refused (ErrNotEmpty) unless force, which
// deletes them in the same commit when it fits the engine's limits; else
// the first commit deletes the workspace (its tokens stop working) and the
// rest follows in chunks (cleanup.go), all done before it returns.
func (s *Store) DeleteWorkspace(ctx context.Context, id string, force bool) error {
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	refuse := func(r reader) error {
		if err := needWorkspace(r, id); err != nil || force {
			return err
		}
		var has []string
		for _, c := range []struct {
			k    kind
			what string
		}{{members, "members"}, {zoos, "zoos"}, {workspaceTokens, "tokens"}} {
			ks, err := r.keys(c.k.children(id), 1)
			if err != nil {
				return err
			}
			if len(ks) > 0 {
				has = append(has, c.what)
			}
		}
		if len(has) > 0 {
			return fmt.Errorf("workspace %q has %s: %w", id, strings.Join(has, ", "), storage.ErrNotEmpty)
		}
		return nil
	}
	// del deletes the workspace, and what it holds unless a marker leaves
	// that to finishWorkspace.
	del := func(marker, value []byte) error {
		return s.update(ctx, func(w writer) error {
			if err := refuse(w.reader); err != nil {
				return reject(err)
			}
			if force && marker == nil {
				if _, err := clearWorkspace(w, id, 0, 0); err != nil {
					return err
				}
			}
			if err := w.del(workspaces.key(id)); err != nil || marker == nil {
				return err
			}
			return w.put(marker, value)
		})
	}
	err := del(nil, nil)
	if !force || !errors.Is(err, storage.ErrTooLarge) {
		return err
	}
	value, err := nonce()
	if err != nil {
		return err
	}
	marker := workspaceCleanups.key(id)
	if err := del(marker, value); err != nil {
		return err
	}
	return s.finishWorkspace(ctx, marker, value, id)
}

// clearWorkspace deletes a workspace's members, zoos, tokens, then its
// removed members' markers. With limits > 0 it deletes at most perKey keys
// or perToken tokens of the first kind that has any, and reports whether it
// deleted anything; with 0 it deletes everything.
func clearWorkspace(w writer, id string, perKey, perToken int) (more bool, err error) {
	steps := []func() (int, error){
		func() (int, error) { return delSome(w, members.children(id), perKey) },
		func() (int, error) { return delSome(w, zoos.children(id), perKey) },
		func() (int, error) { return deleteWorkspaceTokens(w, id, perToken) },
		func() (int, error) { return delSome(w, memberCleanups.children(id), perKey) },
	}
	for _, step := range steps {
		n, err := step()
		if err != nil {
			return false, err
		}
		if n > 0 && perKey > 0 {
			return true, nil
		}
	}
	return false, nil
}

// deleteWorkspaceTokens deletes up to limit (0: all) of the workspace's
// tokens and reports how many entries it took; an entry without its record
// (or naming another workspace's) goes alone.
func deleteWorkspaceTokens(w writer, workspaceID string, limit int) (int, error) {
	ids, err := w.keys(workspaceTokens.children(workspaceID), limit)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		rec, err := tokenByID(w.reader, id)
		if err != nil {
			return 0, err
		}
		if rec == nil || rec.Token.WorkspaceId != workspaceID {
			err = w.del(workspaceTokens.key(workspaceID, id))
		} else {
			err = deleteToken(w, rec)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// needWorkspace refuses, with ErrNotFound, a workspace that does not exist.
func needWorkspace(r reader, id string) error {
	return r.expect(workspaces.key(id), true, fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound))
}

// create stores m under key in one commit. ErrNotFound if workspaceID is
// set and does not exist, ErrAlreadyExists if key is taken, ErrUnavailable
// while marker (the clean-up of an earlier record, named busy) exists.
func (s *Store) create(ctx context.Context, what, workspaceID string, key, marker []byte, busy string, m proto.Message) error {
	val, err := encode(m)
	if err != nil {
		return err
	}
	return s.update(ctx, func(w writer) error {
		if workspaceID != "" {
			if err := needWorkspace(w.reader, workspaceID); err != nil {
				return reject(err)
			}
		}
		if err := w.expect(key, false, fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)); err != nil {
			return reject(err)
		}
		if marker != nil {
			err := fmt.Errorf("%s: %s is still being finished; retry: %w", what, busy, storage.ErrUnavailable)
			if err := w.expect(marker, false, err); err != nil {
				return reject(err)
			}
		}
		return w.put(key, val)
	})
}

// getOne reads the record under key; ErrNotFound, naming what, if absent.
func getOne[T any, P message[T]](ctx context.Context, s *Store, key []byte, what string) (P, error) {
	return viewed(ctx, s, func(r reader) (P, error) {
		m, err := getMsg[T, P](r, key)
		if err == nil && m == nil {
			err = fmt.Errorf("%s: %w", what, storage.ErrNotFound)
		}
		return m, err
	})
}

// listIn is listAfter over kind k of a workspace; ErrNotFound without it.
func listIn[T any, P message[T]](ctx context.Context, s *Store, workspaceID string, k kind, after string, limit int) ([]P, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	return viewed(ctx, s, func(r reader) ([]P, error) {
		if err := needWorkspace(r, workspaceID); err != nil {
			return nil, err
		}
		return listAfter[T, P](r, k.children(workspaceID), after, limit)
	})
}

// modify changes the record under key in one commit: change edits it or
// refuses with an error. ErrNotFound, naming what, if absent.
func modify[T any, P message[T]](ctx context.Context, s *Store, key []byte, what string, change func(P) error) (P, error) {
	return updated(ctx, s, func(w writer) (P, error) {
		m, err := getMsg[T, P](w.reader, key)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return nil, reject(fmt.Errorf("%s: %w", what, storage.ErrNotFound))
		}
		if err := change(m); err != nil {
			return nil, reject(err)
		}
		val, err := encode(m)
		if err != nil {
			return nil, reject(err)
		}
		return m, w.put(key, val)
	})
}
