package bbolt_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func openAt(t testing.TB, path string, opts bbolt.Options) *bbolt.Store {
	t.Helper()
	s, err := bbolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openStore(t testing.TB) *bbolt.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
}

// addWorkspace creates workspace ws with the given members.
func addWorkspace(t testing.TB, s *bbolt.Store, ws string, users ...string) {
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

// withoutSealed compares token records without their sealed secret, which
// LookupToken (the validation index) does not return.
var withoutSealed = protocmp.IgnoreFields(&storagepb.TokenRecord{}, "sealed_secret")

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

func addToken(t testing.TB, s *bbolt.Store, ws, user, id string) *storagepb.TokenRecord {
	t.Helper()
	rec := tokenRec(ws, user, id)
	if err := s.CreateToken(context.Background(), rec, nil); err != nil {
		t.Fatalf("CreateToken(%q) = %v", id, err)
	}
	return rec
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ta.db")
	openAt(t, path, bbolt.Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addWorkspace(t, s, "acme", "ann")
	want := addToken(t, s, "acme", "ann", "01a")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s = openAt(t, path, bbolt.Options{})
	got, err := s.GetToken(ctx, "acme", "01a")
	if err != nil {
		t.Fatalf("GetToken after reopen = %v", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("GetToken after reopen (-want +got):\n%s", diff)
	}
	if _, err := s.GetMember(ctx, "acme", "ann"); err != nil {
		t.Errorf("GetMember after reopen = %v", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 7))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = bbolt.Open(path, bbolt.Options{})
	if !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	for _, v := range []string{"7", "1"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name version %s", err, v)
		}
	}
}

func TestOpenLockedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ta.db")
	openAt(t, path, bbolt.Options{})
	_, err := bbolt.Open(path, bbolt.Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := bbolt.Open(filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addWorkspace(t, s, "acme", "ann")
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Close", s.Close},
		{"Ping", func() error { return s.Ping(ctx) }},
		{"GetWorkspace", func() error { _, err := s.GetWorkspace(ctx, "acme"); return err }},
		{"CreateWorkspace", func() error { return s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "b"}) }},
		{"LookupToken", func() error { _, _, err := s.LookupToken(ctx, hashOf("x")); return err }},
		{"PurgeExpiredSeeds", func() error { _, err := s.PurgeExpiredSeeds(ctx, t0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, storage.ErrClosed) {
				t.Errorf("%s after Close = %v, want ErrClosed", tt.name, err)
			}
		})
	}
}

func TestCloseWaitsForQueuedWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateWorkspace(context.Background(), &pb.Workspace{WorkspaceId: wsID(i)})
		})
	}
	closeErr := s.Close()
	wg.Wait()
	if closeErr != nil {
		t.Fatalf("Close() = %v", closeErr)
	}
	s = openAt(t, path, bbolt.Options{})
	for i, err := range errs {
		_, getErr := s.GetWorkspace(context.Background(), wsID(i))
		switch {
		case err == nil && getErr != nil:
			t.Errorf("workspace %s acknowledged but lost: %v", wsID(i), getErr)
		case err != nil && !errors.Is(err, storage.ErrClosed):
			t.Errorf("CreateWorkspace(%s) = %v, want nil or ErrClosed", wsID(i), err)
		case errors.Is(err, storage.ErrClosed) && getErr == nil:
			t.Errorf("workspace %s refused with ErrClosed but stored", wsID(i))
		}
	}
}

func wsID(i int) string { return "ws-" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func TestCanceledContextWritesNothing(t *testing.T) {
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

func TestPing(t *testing.T) {
	t.Parallel()
	if err := openStore(t).Ping(context.Background()); err != nil {
		t.Errorf("Ping() = %v", err)
	}
}

func TestCounts(t *testing.T) {
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

// TestSharedBatchFailureKeepsOthers has many writers race so that writes
// share commits, one of them failing; every other write must land.
func TestSharedBatchFailureKeepsOthers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	commits, carried := 0, 0
	s := openAt(t, filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{OnCommit: func(n int) {
		mu.Lock()
		commits++
		carried += n
		mu.Unlock()
	}})
	addWorkspace(t, s, "taken")
	ctx := context.Background()
	const n = 100
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := wsID(i)
			if i == n/2 {
				id = "taken"
			}
			<-start
			errs[i] = s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: id})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if i == n/2 {
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("duplicate CreateWorkspace = %v, want ErrAlreadyExists", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("CreateWorkspace(%s) = %v", wsID(i), err)
		}
		if _, err := s.GetWorkspace(ctx, wsID(i)); err != nil {
			t.Errorf("GetWorkspace(%s) = %v", wsID(i), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if carried != n+1 {
		t.Errorf("OnCommit saw %d writes in %d commits, want %d writes", carried, commits, n+1)
	}
}
