package etcd

import (
	"context"
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateZoo stores a new zoo in an existing workspace.
func (s *Store) CreateZoo(ctx context.Context, z *pb.Zoo) error {
	if z == nil {
		return fmt.Errorf("nil zoo: %w", storage.ErrInvalid)
	}
	ws, zoo := z.GetWorkspaceId(), z.GetZooId()
	if err := checkIDs("workspace", ws, "zoo", zoo); err != nil {
		return err
	}
	_, err := s.update(ctx, "create zoo", func(t *txn) error {
		if ok, err := t.exists(s.k.workspace(ws)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("workspace %q: %w", ws, storage.ErrNotFound)
			}
			return err
		}
		if ok, err := t.exists(s.k.zoo(ws, zoo)); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("zoo %s/%s: %w", ws, zoo, storage.ErrAlreadyExists)
			}
			return err
		}
		return t.put(s.k.zoo(ws, zoo), z)
	})
	return err
}

// ListZoos lists a workspace's zoos in id order.
func (s *Store) ListZoos(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Zoo, error) {
	return listInWorkspace[pb.Zoo](ctx, s, workspaceID, s.k.zoos(workspaceID), after, limit)
}

// UpdateZoo changes a zoo's visibility.
func (s *Store) UpdateZoo(ctx context.Context, workspaceID, zooID string, v pb.Visibility) (*pb.Zoo, error) {
	if err := checkIDs("workspace", workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	if v == pb.Visibility_VISIBILITY_UNSPECIFIED {
		return nil, fmt.Errorf("zoo %s/%s: unspecified visibility: %w", workspaceID, zooID, storage.ErrInvalid)
	}
	var out *pb.Zoo
	_, err := s.update(ctx, "update zoo", func(t *txn) error {
		kv, err := t.get(s.k.zoo(workspaceID, zooID))
		if err != nil {
			return err
		}
		if kv == nil {
			return fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound)
		}
		z, err := decode[pb.Zoo](kv.Value)
		if err != nil {
			return err
		}
		z.Visibility = v
		out = z
		return t.put(s.k.zoo(workspaceID, zooID), z)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteZoo deletes a zoo.
func (s *Store) DeleteZoo(ctx context.Context, workspaceID, zooID string) error {
	if err := checkIDs("workspace", workspaceID, "zoo", zooID); err != nil {
		return err
	}
	_, err := s.update(ctx, "delete zoo", func(t *txn) error {
		if ok, err := t.exists(s.k.zoo(workspaceID, zooID)); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound)
			}
			return err
		}
		t.del(s.k.zoo(workspaceID, zooID))
		return nil
	})
	return err
}
