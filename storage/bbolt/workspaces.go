package bbolt

import (
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateWorkspace stores ws; ErrAlreadyExists if its id is taken.
func (s *Store) CreateWorkspace(ctx context.Context, ws *pb.Workspace) error {
	if ws == nil {
		return fmt.Errorf("nil workspace: %w", storage.ErrInvalid)
	}
	id := ws.GetWorkspaceId()
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	val, err := encode(ws)
	if err != nil {
		return err
	}
	key := []byte(id)
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get(key) != nil {
			return reject(fmt.Errorf("workspace %q: %w", id, storage.ErrAlreadyExists))
		}
		return s.insertWorkspace(tx, key, val)
	})
}

// GetWorkspace returns the workspace; ErrNotFound if absent.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*pb.Workspace, error) {
	if err := storage.CheckID("workspace", id); err != nil {
		return nil, err
	}
	var ws *pb.Workspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketWorkspaces).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound)
		}
		var err error
		ws, err = decode[pb.Workspace](v)
		return err
	})
	return ws, err
}

// ListWorkspaces returns workspaces with ids greater than after, ascending,
// at most limit of them (all when limit <= 0).
func (s *Store) ListWorkspaces(ctx context.Context, after string, limit int) ([]*pb.Workspace, error) {
	var out []*pb.Workspace
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = listAfter[pb.Workspace](tx.Bucket(bucketWorkspaces), nil, after, limit)
		return err
	})
	return out, err
}

// DeleteWorkspace deletes the workspace; ErrNotFound if absent. A workspace
// with members, zoos or tokens is refused with ErrNotEmpty unless force is
// set; force deletes all of them in the same commit, including the tokens'
// secret-hash index entries and any seed still parked for them.
func (s *Store) DeleteWorkspace(ctx context.Context, id string, force bool) error {
	if err := storage.CheckID("workspace", id); err != nil {
		return err
	}
	key := []byte(id)
	prefix := childPrefix(id)
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get(key) == nil {
			return reject(fmt.Errorf("workspace %q: %w", id, storage.ErrNotFound))
		}
		members := keysWithPrefix(tx.Bucket(bucketMembers), prefix, !force)
		zoos := keysWithPrefix(tx.Bucket(bucketZoos), prefix, !force)
		tokens := keysWithPrefix(tx.Bucket(bucketWorkspaceTokens), prefix, !force)
		if !force && (len(members)+len(zoos)+len(tokens)) > 0 {
			var has []string
			for _, c := range []struct {
				n    int
				what string
			}{{len(members), "members"}, {len(zoos), "zoos"}, {len(tokens), "tokens"}} {
				if c.n > 0 {
					has = append(has, c.what)
				}
			}
			return reject(fmt.Errorf("workspace %q has %s: %w", id, strings.Join(has, ", "), storage.ErrNotEmpty))
		}
		for _, k := range members {
			s.j.member(k)
		}
		if err := deleteKeys(tx.Bucket(bucketMembers), members); err != nil {
			return err
		}
		for _, k := range zoos {
			s.j.zoo(k)
		}
		if err := deleteKeys(tx.Bucket(bucketZoos), zoos); err != nil {
			return err
		}
		if err := s.deleteTokens(tx, prefix, tokens); err != nil {
			return err
		}
		return s.removeWorkspace(tx, key)
	})
}

// deleteTokens removes the tokens named by workspace_tokens keys, their
// secret-hash entries, their index entries and their parked seeds.
func (s *Store) deleteTokens(tx *bolt.Tx, prefix []byte, indexKeys [][]byte) error {
	if len(indexKeys) == 0 {
		return nil
	}
	ids := make(map[string]bool, len(indexKeys))
	for _, k := range indexKeys {
		id := k[len(prefix):]
		ids[string(id)] = true
		if err := s.removeToken(tx, id); err != nil {
			return err
		}
	}
	// An index entry whose record was missing is dropped too.
	if err := deleteKeys(tx.Bucket(bucketWorkspaceTokens), indexKeys); err != nil {
		return err
	}
	// Seeds live minutes and are few, so a scan is cheaper than an index.
	seeds := tx.Bucket(bucketSeeds)
	var orphans [][]byte
	err := seeds.ForEach(func(k, v []byte) error {
		seed, err := decode[storagepb.SeedRecord](v)
		if err != nil {
			return err
		}
		if ids[seed.GetTokenId()] {
			orphans = append(orphans, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return deleteKeys(seeds, orphans)
}
