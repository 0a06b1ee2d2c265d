package core

// Stubs of the operations ported by the workspaces/members/zoos/seeds/keys
// group; each is replaced by its real file. DELETE THIS FILE when done.

import (
	"context"
	"errors"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

var errTodoA = errors.New("not yet ported")

func (s *Store) finishCleanups(ctx context.Context) error                { return nil }
func (s *Store) CreateWorkspace(ctx context.Context, ws *pb.Workspace) error { return errTodoA }
func (s *Store) GetWorkspace(ctx context.Context, id string) (*pb.Workspace, error) {
	return nil, errTodoA
}
func (s *Store) ListWorkspaces(ctx context.Context, after string, limit int) ([]*pb.Workspace, error) {
	return nil, errTodoA
}
func (s *Store) DeleteWorkspace(ctx context.Context, id string, force bool) error { return errTodoA }
func (s *Store) UpdateWorkspace(ctx context.Context, id string, change func(ws *pb.Workspace) error) (*pb.Workspace, error) {
	return nil, errTodoA
}
func (s *Store) GetTokenPolicy(ctx context.Context, workspaceID string) (*pb.TokenPolicy, error) {
	return nil, errTodoA
}
func (s *Store) AddMember(ctx context.Context, m *pb.Member) error { return errTodoA }
func (s *Store) GetMember(ctx context.Context, workspaceID, userID string) (*pb.Member, error) {
	return nil, errTodoA
}
func (s *Store) ListMembers(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Member, error) {
	return nil, errTodoA
}
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string, now time.Time) (int, error) {
	return 0, errTodoA
}
func (s *Store) CreateZoo(ctx context.Context, z *pb.Zoo) error { return errTodoA }
func (s *Store) GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	return nil, errTodoA
}
func (s *Store) ListZoos(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Zoo, error) {
	return nil, errTodoA
}
func (s *Store) UpdateZoo(ctx context.Context, workspaceID, zooID string, v pb.Visibility) (*pb.Zoo, error) {
	return nil, errTodoA
}
func (s *Store) DeleteZoo(ctx context.Context, workspaceID, zooID string) error { return errTodoA }
func (s *Store) PickSeed(ctx context.Context, seedHash [32]byte, now time.Time, open func(*storagepb.SeedRecord) error) (*storagepb.SeedRecord, error) {
	return nil, errTodoA
}
func (s *Store) PurgeExpiredSeeds(ctx context.Context, now time.Time) (int, error) {
	return 0, errTodoA
}
func (s *Store) KeyChecks(ctx context.Context) (map[uint32][]byte, error)     { return nil, errTodoA }
func (s *Store) SetKeyChecks(ctx context.Context, c map[uint32][]byte) error { return errTodoA }
func (s *Store) SealedSample(ctx context.Context) (storage.Sealed, error) {
	return storage.Sealed{}, errTodoA
}

// Stubs of the key tools' extras (daemon/keys.go).

type ResealOptions struct {
	Batch       int
	AfterCommit func(ResealProgress)
}

type ResealProgress struct{ Sealed, Resealed, Changed, Commits int }

func (s *Store) Reseal(ctx context.Context, opts ResealOptions, reseal func(sealed, aad []byte) ([]byte, error)) (ResealProgress, error) {
	return ResealProgress{}, errTodoA
}
func (s *Store) ForEachSealed(ctx context.Context, fn func(sealed, aad []byte) error) error {
	return errTodoA
}
func (s *Store) DeleteKeyCheck(ctx context.Context, id uint32) error { return errTodoA }
