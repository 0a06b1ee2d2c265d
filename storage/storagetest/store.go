package storagetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// addWorkspace creates workspace ws with the given members.
func addWorkspace(t testing.TB, s storage.Backend, ws string, users ...string) {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: ws, DisplayName: ws, CreateTime: timestamppb.New(t0)}); err != nil {
		t.Fatalf("CreateWorkspace(%q) = %v", ws, err)
	}
	for _, u := range users {
		if err := s.AddMember(ctx, &pb.Member{WorkspaceId: ws, UserId: u, CreateTime: timestamppb.New(t0)}); err != nil {
			t.Fatalf("AddMember(%q, %q) = %v", ws, u, err)
		}
	}
}

// hashOf stands in for the SHA-256 of a secret.
func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// tokenRec builds a record whose secret hash is derived from its id.
func tokenRec(ws, user, id string) *storagepb.TokenRecord {
	h := hashOf("secret-" + id)
	return &storagepb.TokenRecord{
		Token: &pb.Token{
			TokenId:     id,
			WorkspaceId: ws,
			UserId:      user,
			Description: "token " + id,
			MaskedKey:   "dg_abc…" + id,
			CreateTime:  timestamppb.New(t0),
		},
		SecretHash:   h[:],
		SealedSecret: []byte("sealed-" + id),
	}
}

func addToken(t testing.TB, s storage.Backend, ws, user, id string) *storagepb.TokenRecord {
	t.Helper()
	rec := tokenRec(ws, user, id)
	if err := s.CreateToken(context.Background(), rec, nil); err != nil {
		t.Fatalf("CreateToken(%q) = %v", id, err)
	}
	return rec
}

func wsID(i int) string { return "ws-" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func testCanceledContextWritesNothing(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateWorkspace(canceled) = %v, want context.Canceled", err)
	}
	if _, err := s.GetWorkspace(context.Background(), "acme"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetWorkspace = %v, want ErrNotFound", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping(canceled) = %v, want context.Canceled", err)
	}
}

func testPing(t *testing.T, openStore NewStore) {
	t.Parallel()
	if err := openStore(t).Ping(context.Background()); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

func testCounts(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta", "bob")
	addToken(t, s, "acme", "ann", "01")
	addToken(t, s, "acme", "ann", "02")
	addToken(t, s, "beta", "bob", "03")
	tokens, workspaces, err := s.Counts(context.Background())
	if err != nil {
		t.Fatalf("Counts() = %v", err)
	}
	if tokens != 3 || workspaces != 2 {
		t.Errorf("Counts() = %d tokens, %d workspaces; want 3, 2", tokens, workspaces)
	}
}
