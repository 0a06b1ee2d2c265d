package storage

import (
	"context"
	"io"
	"time"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// Backend is the store the server holds (storage/core on either engine),
// checked by storagetest.RunTests. Errors wrap errors.go's sentinels; a
// method that changes several records changes all or none.
type Backend interface {
	// Ping reports whether the store can serve reads, for readiness.
	Ping(ctx context.Context) error
	// Close releases the store; later calls fail with ErrClosed.
	Close() error
	// Counts returns how many token records and workspaces are stored.
	Counts(ctx context.Context) (tokens, workspaces int, err error)

	CreateWorkspace(ctx context.Context, ws *pb.Workspace) error
	GetWorkspace(ctx context.Context, id string) (*pb.Workspace, error)
	ListWorkspaces(ctx context.Context, after string, limit int) ([]*pb.Workspace, error)
	// DeleteWorkspace refuses a workspace with members, zoos or tokens
	// unless force, which deletes them with it.
	DeleteWorkspace(ctx context.Context, id string, force bool) error

	AddMember(ctx context.Context, m *pb.Member) error
	GetMember(ctx context.Context, workspaceID, userID string) (*pb.Member, error)
	ListMembers(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Member, error)
	// RemoveMember deletes the member and revokes their tokens; from the
	// moment it returns no token of theirs validates.
	RemoveMember(ctx context.Context, workspaceID, userID string, now time.Time) (revoked int, err error)

	CreateZoo(ctx context.Context, z *pb.Zoo) error
	GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error)
	ListZoos(ctx context.Context, workspaceID, after string, limit int) ([]*pb.Zoo, error)
	UpdateZoo(ctx context.Context, workspaceID, zooID string, v pb.Visibility) (*pb.Zoo, error)
	DeleteZoo(ctx context.Context, workspaceID, zooID string) error

	// CreateToken stores the record, its secret-hash entry and, when seed
	// is not nil, the parked seed, all or nothing.
	CreateToken(ctx context.Context, rec *storagepb.TokenRecord, seed *SeedPark) error
	GetToken(ctx context.Context, workspaceID, tokenID string) (*storagepb.TokenRecord, error)
	ListTokens(ctx context.Context, workspaceID, before string, limit int, includeRevoked bool, now time.Time) ([]*storagepb.TokenRecord, error)
	ListTokensMatching(ctx context.Context, workspaceID, before string, limit int, match func(*pb.Token) bool) ([]*storagepb.TokenRecord, error)
	// LookupToken finds a token by its secret's SHA-256 and reports whether
	// its user is a member of its workspace: validation, from memory where
	// it can be. The record may leave out sealed_secret (GetToken has it).
	LookupToken(ctx context.Context, secretHash [32]byte) (rec *storagepb.TokenRecord, member bool, err error)
	RevokeToken(ctx context.Context, workspaceID, tokenID string, at time.Time, reason pb.RevokeReason) (*storagepb.TokenRecord, error)
	RevokeTokens(ctx context.Context, workspaceID string, tokenIDs []string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error)
	RevokeUserTokens(ctx context.Context, workspaceID, userID string, at time.Time, reason pb.RevokeReason) ([]*storagepb.TokenRecord, error)
	// RevokeLeaked revokes the tokens (and their descendants) whose secret
	// hashes are given; a call with no known hash writes nothing.
	RevokeLeaked(ctx context.Context, hashes [][32]byte, at time.Time) ([]*storagepb.TokenRecord, error)
	// LookupTokenWithPolicy is LookupToken with the token policy of the
	// token's workspace (nil: none), read together.
	LookupTokenWithPolicy(ctx context.Context, secretHash [32]byte) (rec *storagepb.TokenRecord, member bool, policy *pb.TokenPolicy, err error)
	// RollToken stores a token's successor and retires the old one in one
	// write; rolling a rolled token revokes its family (lifecycle.ErrReused).
	RollToken(ctx context.Context, r Roll) (old, next *storagepb.TokenRecord, err error)
	// UpdateToken applies change, which may run more than once, to a token
	// under its workspace's policy (Disabled reaches its descendants).
	UpdateToken(ctx context.Context, workspaceID, tokenID string, now time.Time, change func(t *pb.Token, p *pb.TokenPolicy) error) (*storagepb.TokenRecord, error)
	// UpdateWorkspace applies change to a workspace; change may run more
	// than once.
	UpdateWorkspace(ctx context.Context, id string, change func(ws *pb.Workspace) error) (*pb.Workspace, error)
	GetTokenPolicy(ctx context.Context, workspaceID string) (*pb.TokenPolicy, error)
	RecordUses(ctx context.Context, uses map[string]time.Time) (int, error)
	SweepTokens(ctx context.Context, cutoff time.Time, batch int) (int, error)

	PickSeed(ctx context.Context, seedHash [32]byte, now time.Time, open func(*storagepb.SeedRecord) error) (*storagepb.SeedRecord, error)
	PurgeExpiredSeeds(ctx context.Context, now time.Time) (int, error)

	// RecordAudit records the audit event of ctx alone; every write
	// records its ctx's event with its change.
	RecordAudit(ctx context.Context) error
	// ListAuditEvents returns, in log order, at most limit events that
	// pass f after the cursor after (""), reading at most maxScan; next
	// is the cursor to go on from when more may follow.
	ListAuditEvents(ctx context.Context, f audit.Filter, after string, limit, maxScan int) (events []*pb.AuditEvent, next string, err error)
	VerifyAudit(ctx context.Context) (audit.Result, error)
	// FinishStale finishes, and counts, the changes split over several
	// commits that a process stopped in the middle of and that were
	// already there at its previous call.
	FinishStale(ctx context.Context) (int, error)
	// SweepAudit removes the audit events older than cutoff in bounded
	// commits, recording the checkpoint VerifyAudit starts from.
	SweepAudit(ctx context.Context, cutoff time.Time, batch int) (int, error)

	// The key checks let start-up refuse a master key that cannot open
	// the stored secrets. SetKeyChecks never replaces a value: all or
	// nothing, ErrAlreadyExists when an id has one (read them again).
	KeyChecks(ctx context.Context) (map[uint32][]byte, error)
	SetKeyChecks(ctx context.Context, checks map[uint32][]byte) error
	DeleteKeyCheck(ctx context.Context, id uint32) error
	SealedSample(ctx context.Context) (Sealed, error)
}

// Snapshotter is a Backend that streams a consistent snapshot of itself
// (bbolt; etcd is backed up with etcd's tools).
type Snapshotter interface {
	Backup(ctx context.Context, w io.Writer) (int64, error)
}
