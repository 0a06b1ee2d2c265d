package core

// Stubs of the operations ported by the tokens group; each is replaced by
// its real file. DELETE THIS FILE when done.

import (
	"context"
	"errors"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

var errTodoB = errors.New("not yet ported")

func (s *Store) CreateToken(ctx context.Context, rec *storagepb.TokenRecord, seed *storage.SeedPark) error {
	return errTodoB
}
func (s *Store) GetToken(ctx context.Context, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) ListTokens(ctx context.Context, workspaceID, before string, limit int, includeRevoked bool, now time.Time) ([]*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) ListTokensMatching(ctx context.Context, workspaceID, before string, limit int, match func(*pb.Token) bool) ([]*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) RevokeToken(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) RevokeTokens(ctx context.Context, workspaceID string, tokenIDs []string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) RevokeUserTokens(ctx context.Context, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) RollToken(ctx context.Context, r storage.Roll) (*storagepb.TokenRecord, *storagepb.TokenRecord, error) {
	return nil, nil, errTodoB
}
func (s *Store) UpdateToken(ctx context.Context, workspaceID, tokenID string, now time.Time, change func(t *pb.Token, p *pb.TokenPolicy) error) (*storagepb.TokenRecord, error) {
	return nil, errTodoB
}
func (s *Store) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	return 0, errTodoB
}
func (s *Store) SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	return 0, errTodoB
}
