package core

import (
	"context"
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// CreateZoo stores z; ErrNotFound without its workspace, ErrAlreadyExists
// if the zoo id is taken there.
func (s *Store) CreateZoo(ctx context.Context, z *pb.Zoo) error {
	if z == nil {
		return fmt.Errorf("nil zoo: %w", storage.ErrInvalid)
	}
	ws, zoo := z.GetWorkspaceId(), z.GetZooId()
	if err := checkPair(ws, "zoo", zoo); err != nil {
		return err
	}
	return s.create(ctx, fmt.Sprintf("zoo %s/%s", ws, zoo), ws, zoos.key(ws, zoo), nil, "", z)
}

// GetZoo returns the zoo; ErrNotFound if absent.
func (s *Store) GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if err := checkPair(workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	return getOne[pb.Zoo](ctx, s, zoos.key(workspaceID, zooID), fmt.Sprintf("zoo %s/%s", workspaceID, zooID))
}

// ListZoos returns the workspace's zoos with ids after after, ascending, at
// most limit (<= 0: all); ErrNotFound without the workspace.
func (s *Store) ListZoos(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Zoo, error) {
	return listIn[pb.Zoo](ctx, s, workspaceID, zoos, after, limit)
}

// UpdateZoo sets the zoo's visibility and returns the stored zoo;
// ErrNotFound if absent, ErrInvalid for VISIBILITY_UNSPECIFIED.
func (s *Store) UpdateZoo(ctx context.Context, workspaceID, zooID string, v pb.Visibility) (*pb.Zoo, error) {
	if err := checkPair(workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("zoo %s/%s", workspaceID, zooID)
	if v == pb.Visibility_VISIBILITY_UNSPECIFIED {
		return nil, fmt.Errorf("%s: unspecified visibility: %w", what, storage.ErrInvalid)
	}
	return modify(ctx, s, zoos.key(workspaceID, zooID), what, func(z *pb.Zoo) error {
		z.Visibility = v
		return nil
	})
}

// DeleteZoo deletes the zoo; ErrNotFound if absent.
func (s *Store) DeleteZoo(ctx context.Context, workspaceID, zooID string) error {
	if err := checkPair(workspaceID, "zoo", zooID); err != nil {
		return err
	}
	key := zoos.key(workspaceID, zooID)
	return s.update(ctx, func(w writer) error {
		if err := w.expect(key, true, fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound)); err != nil {
			return reject(err)
		}
		return w.del(key)
	})
}
