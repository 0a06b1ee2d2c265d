package core

import (
	"context"
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateZoo stores z; ErrNotFound if its workspace does not exist,
// ErrAlreadyExists if the zoo id is taken in that workspace.
func (s *Store) CreateZoo(ctx context.Context, z *pb.Zoo) error {
	if z == nil {
		return fmt.Errorf("nil zoo: %w", storage.ErrInvalid)
	}
	ws, zoo := z.GetWorkspaceId(), z.GetZooId()
	if err := checkPair("workspace", ws, "zoo", zoo); err != nil {
		return err
	}
	val, err := encode(z)
	if err != nil {
		return err
	}
	key := zoos.key(ws, zoo)
	return s.update(ctx, func(w writer) error {
		if err := needWorkspace(w.reader, ws); err != nil {
			return err
		}
		if ok, err := w.has(key); err != nil || ok {
			if ok {
				return reject(fmt.Errorf("zoo %s/%s: %w", ws, zoo, storage.ErrAlreadyExists))
			}
			return err
		}
		return w.put(key, val)
	})
}

// GetZoo returns the zoo; ErrNotFound if absent.
func (s *Store) GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if err := checkPair("workspace", workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	var z *pb.Zoo
	err := s.view(ctx, func(r reader) error {
		var err error
		if z, err = getMsg[pb.Zoo](r, zoos.key(workspaceID, zooID)); err == nil && z == nil {
			err = fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound)
		}
		return err
	})
	return z, err
}

// ListZoos returns the workspace's zoos with ids greater than after,
// ascending, at most limit (all when limit <= 0); ErrNotFound if the
// workspace does not exist.
func (s *Store) ListZoos(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Zoo, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	var out []*pb.Zoo
	err := s.view(ctx, func(r reader) error {
		if err := workspaceGuard(workspaceID)(r); err != nil {
			return err
		}
		var err error
		out, err = listAfter[pb.Zoo](r, zoos.children(workspaceID), after, limit)
		return err
	})
	return out, err
}

// UpdateZoo sets the zoo's visibility and returns the stored zoo;
// ErrNotFound if absent, ErrInvalid for VISIBILITY_UNSPECIFIED.
func (s *Store) UpdateZoo(ctx context.Context, workspaceID, zooID string, v pb.Visibility) (*pb.Zoo, error) {
	if err := checkPair("workspace", workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	if v == pb.Visibility_VISIBILITY_UNSPECIFIED {
		return nil, fmt.Errorf("zoo %s/%s: unspecified visibility: %w", workspaceID, zooID, storage.ErrInvalid)
	}
	key := zoos.key(workspaceID, zooID)
	var out *pb.Zoo
	err := s.update(ctx, func(w writer) error {
		out = nil
		z, err := getMsg[pb.Zoo](w.reader, key)
		if err != nil {
			return err
		}
		if z == nil {
			return reject(fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound))
		}
		z.Visibility = v
		if err := w.putMsg(key, z); err != nil {
			return err
		}
		out = z
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteZoo deletes the zoo; ErrNotFound if absent.
func (s *Store) DeleteZoo(ctx context.Context, workspaceID, zooID string) error {
	if err := checkPair("workspace", workspaceID, "zoo", zooID); err != nil {
		return err
	}
	key := zoos.key(workspaceID, zooID)
	return s.update(ctx, func(w writer) error {
		if ok, err := w.has(key); err != nil || !ok {
			if err == nil {
				err = reject(fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound))
			}
			return err
		}
		return w.del(key)
	})
}
