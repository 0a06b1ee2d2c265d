package bbolt_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"

	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.RunTests(t, func(t testing.TB) storage.Backend {
		return openAt(t, filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
	})
}

// openAt opens the store at path, closed when the test ends.
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

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

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
