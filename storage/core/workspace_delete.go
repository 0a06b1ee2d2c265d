package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tokenauthority/storage"
)

// DeleteWorkspace deletes the workspace; ErrNotFound if absent. A
// workspace with members, zoos or tokens is refused with ErrNotEmpty
// unless force, which deletes them with it: the tokens with their entries,
// last uses and parked seeds. That is one commit when it fits the
// engine's limits; else the first commit deletes the workspace (its tokens
// stop working with its members, which go first) and the rest follows in
// chunks (cleanup.go), all done before it returns.
func (s *Store) DeleteWorkspace(ctx context.Context, id string, force bool) error {
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	refuse := func(r reader) error {
		ok, err := r.has(workspaces.key(id))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound)
		}
		if force {
			return nil
		}
		var has []string
		for _, c := range []struct {
			prefix []byte
			what   string
		}{{members.children(id), "members"}, {zoos.children(id), "zoos"}, {workspaceTokens.children(id), "tokens"}} {
			ks, err := r.keys(c.prefix, 1)
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
	err := s.update(ctx, func(w writer) error {
		if err := refuse(w.reader); err != nil {
			return reject(err)
		}
		if force {
			if err := deleteWorkspaceContents(w, id); err != nil {
				return err
			}
		}
		return w.del(workspaces.key(id))
	})
	if !force || !errors.Is(err, storage.ErrTooLarge) {
		return err
	}
	value, err := nonce()
	if err != nil {
		return err
	}
	marker := workspaceCleanups.key(id)
	err = s.update(ctx, func(w writer) error {
		if err := refuse(w.reader); err != nil {
			return reject(err)
		}
		if err := w.del(workspaces.key(id)); err != nil {
			return err
		}
		return w.put(marker, value)
	})
	if err != nil {
		return err
	}
	return s.finishWorkspace(ctx, marker, value, id)
}

// deleteWorkspaceContents deletes, in one transaction, everything a
// workspace holds: members, zoos, tokens and markers of removed members.
func deleteWorkspaceContents(w writer, id string) error {
	for _, p := range [][]byte{members.children(id), zoos.children(id), memberCleanups.children(id)} {
		if err := w.delAll(p); err != nil {
			return err
		}
	}
	ids, err := w.keys(workspaceTokens.children(id), 0)
	if err != nil {
		return err
	}
	return deleteWorkspaceTokens(w, id, ids)
}
