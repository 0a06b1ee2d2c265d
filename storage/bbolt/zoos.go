package bbolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

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
	if err := checkIDs("workspace", ws, "zoo", zoo); err != nil {
		return err
	}
	val, err := encode(z)
	if err != nil {
		return err
	}
	key := compositeKey(ws, zoo)
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get([]byte(ws)) == nil {
			return reject(fmt.Errorf("workspace %q: %w", ws, storage.ErrNotFound))
		}
		b := tx.Bucket(bucketZoos)
		if b.Get(key) != nil {
			return reject(fmt.Errorf("zoo %s/%s: %w", ws, zoo, storage.ErrAlreadyExists))
		}
		s.j.zoo(key)
		return b.Put(key, val)
	})
}

// GetZoo returns the zoo; ErrNotFound if absent.
func (s *Store) GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if err := checkIDs("workspace", workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	var z *pb.Zoo
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketZoos).Get(compositeKey(workspaceID, zooID))
		if v == nil {
			return fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound)
		}
		var err error
		z, err = decode[pb.Zoo](v)
		return err
	})
	return z, err
}

// errZooNotFound is LookupZoo's miss, made once.
var errZooNotFound = fmt.Errorf("zoo: %w", storage.ErrNotFound)

// LookupZoo is GetZoo for the decision path: it answers from the
// validation index, without a transaction, and the zoo it returns is
// shared with every other lookup: never change it.
func (s *Store) LookupZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, storage.ErrClosed
	}
	z, ok := s.index.Zoo(workspaceID, zooID)
	if !ok {
		return nil, errZooNotFound
	}
	return z, nil
}

// ListZoos returns the workspace's zoos with ids greater than after,
// ascending, at most limit (all when limit <= 0); ErrNotFound if the
// workspace does not exist.
func (s *Store) ListZoos(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Zoo, error) {
	if err := storage.CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	var out []*pb.Zoo
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get([]byte(workspaceID)) == nil {
			return fmt.Errorf("workspace %q: %w", workspaceID, storage.ErrNotFound)
		}
		var err error
		out, err = listAfter[pb.Zoo](tx.Bucket(bucketZoos), childPrefix(workspaceID), after, limit)
		return err
	})
	return out, err
}

// UpdateZoo sets the zoo's visibility and returns the stored zoo;
// ErrNotFound if absent, ErrInvalid for VISIBILITY_UNSPECIFIED.
func (s *Store) UpdateZoo(ctx context.Context, workspaceID, zooID string, v pb.Visibility) (*pb.Zoo, error) {
	if err := checkIDs("workspace", workspaceID, "zoo", zooID); err != nil {
		return nil, err
	}
	if v == pb.Visibility_VISIBILITY_UNSPECIFIED {
		return nil, fmt.Errorf("zoo %s/%s: unspecified visibility: %w", workspaceID, zooID, storage.ErrInvalid)
	}
	key := compositeKey(workspaceID, zooID)
	var out *pb.Zoo
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketZoos)
		old := b.Get(key)
		if old == nil {
			return reject(fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound))
		}
		z, err := decode[pb.Zoo](old)
		if err != nil {
			return err
		}
		z.Visibility = v
		val, err := encode(z)
		if err != nil {
			return err
		}
		out = z
		s.j.zoo(key)
		return b.Put(key, val)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteZoo deletes the zoo; ErrNotFound if absent.
func (s *Store) DeleteZoo(ctx context.Context, workspaceID, zooID string) error {
	if err := checkIDs("workspace", workspaceID, "zoo", zooID); err != nil {
		return err
	}
	key := compositeKey(workspaceID, zooID)
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketZoos)
		if b.Get(key) == nil {
			return reject(fmt.Errorf("zoo %s/%s: %w", workspaceID, zooID, storage.ErrNotFound))
		}
		s.j.zoo(key)
		return b.Delete(key)
	})
}
