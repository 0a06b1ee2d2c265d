package bbolt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

func TestCreateGetWorkspace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme")
	tests := []struct {
		name string
		ws   *pb.Workspace
		want error
	}{
		{"new", &pb.Workspace{WorkspaceId: "beta", DisplayName: "Beta", CreateTime: timestamppb.New(t0)}, nil},
		{"taken", &pb.Workspace{WorkspaceId: "acme"}, storage.ErrAlreadyExists},
		{"nil", nil, storage.ErrInvalid},
		{"empty id", &pb.Workspace{}, storage.ErrInvalid},
		{"separator in id", &pb.Workspace{WorkspaceId: "a\x00b"}, storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateWorkspace(ctx, tt.ws)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CreateWorkspace = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			got, err := s.GetWorkspace(ctx, tt.ws.WorkspaceId)
			if err != nil {
				t.Fatalf("GetWorkspace = %v", err)
			}
			if diff := cmp.Diff(tt.ws, got, protocmp.Transform()); diff != "" {
				t.Errorf("GetWorkspace (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.GetWorkspace(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetWorkspace(nope) = %v, want ErrNotFound", err)
	}
}

func TestListWorkspacesPages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for _, id := range []string{"e", "b", "d", "a", "c"} {
		addWorkspace(t, s, id)
	}
	tests := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 2, []string{"a", "b"}},
		{"b", 2, []string{"c", "d"}},
		{"d", 2, []string{"e"}},
		{"e", 2, nil},
		{"bb", 2, []string{"c", "d"}},
		{"", 0, []string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		got, err := s.ListWorkspaces(context.Background(), tt.after, tt.limit)
		if err != nil {
			t.Fatalf("ListWorkspaces(%q, %d) = %v", tt.after, tt.limit, err)
		}
		if diff := cmp.Diff(tt.want, workspaceIDs(got)); diff != "" {
			t.Errorf("ListWorkspaces(%q, %d) (-want +got):\n%s", tt.after, tt.limit, diff)
		}
	}
}

func workspaceIDs(ws []*pb.Workspace) []string {
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.WorkspaceId)
	}
	return ids
}

func TestDeleteWorkspace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, s *bbolt.Store)
		force bool
		want  error
	}{
		{"missing", func(*testing.T, *bbolt.Store) {}, false, storage.ErrNotFound},
		{"empty", func(t *testing.T, s *bbolt.Store) { addWorkspace(t, s, "acme") }, false, nil},
		{"with member", func(t *testing.T, s *bbolt.Store) { addWorkspace(t, s, "acme", "ann") }, false, storage.ErrNotEmpty},
		{"with zoo", func(t *testing.T, s *bbolt.Store) {
			addWorkspace(t, s, "acme")
			addZoo(t, s, "acme", "detectors", pb.Visibility_VISIBILITY_PUBLIC)
		}, false, storage.ErrNotEmpty},
		{"forced with everything", func(t *testing.T, s *bbolt.Store) {
			addWorkspace(t, s, "acme", "ann", "bob")
			addZoo(t, s, "acme", "detectors", pb.Visibility_VISIBILITY_PRIVATE)
			addToken(t, s, "acme", "ann", "01")
			rec := tokenRec("acme", "bob", "02")
			seed := &storage.SeedPark{Hash: hashOf("seed-02"), Record: &storagepb.SeedRecord{TokenId: "02"}}
			if err := s.CreateToken(ctx, rec, seed); err != nil {
				t.Fatal(err)
			}
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			// A neighbour whose ids share the prefix must survive untouched.
			addWorkspace(t, s, "acme-2", "ann")
			addZoo(t, s, "acme-2", "detectors", pb.Visibility_VISIBILITY_PUBLIC)
			neighbour := addToken(t, s, "acme-2", "ann", "00")
			tt.setup(t, s)

			err := s.DeleteWorkspace(ctx, "acme", tt.force)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("DeleteWorkspace = %v, want %v", err, tt.want)
			}
			_, getErr := s.GetWorkspace(ctx, "acme")
			if gone := errors.Is(getErr, storage.ErrNotFound); gone != (tt.want == nil || tt.want == storage.ErrNotFound) {
				t.Errorf("after DeleteWorkspace, GetWorkspace = %v", getErr)
			}
			if tt.want == nil {
				for _, u := range []string{"ann", "bob"} {
					if _, err := s.GetMember(ctx, "acme", u); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("GetMember(acme, %s) = %v, want ErrNotFound", u, err)
					}
				}
				if _, err := s.GetZoo(ctx, "acme", "detectors"); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("GetZoo = %v, want ErrNotFound", err)
				}
				for _, id := range []string{"01", "02"} {
					if _, _, err := s.LookupToken(ctx, hashOf("secret-"+id)); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("LookupToken(%s) = %v, want ErrNotFound", id, err)
					}
				}
				if _, err := s.PickSeed(ctx, hashOf("seed-02"), t0, openOK); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("PickSeed = %v, want ErrNotFound", err)
				}
				tokens, workspaces, err := s.Counts(ctx)
				if err != nil || tokens != 1 || workspaces != 1 {
					t.Errorf("Counts() = %d, %d, %v; want 1, 1, nil", tokens, workspaces, err)
				}
			}
			// Re-creating the workspace starts empty.
			if tt.want == nil {
				addWorkspace(t, s, "acme")
				if err := s.DeleteWorkspace(ctx, "acme", false); err != nil {
					t.Errorf("DeleteWorkspace of re-created workspace = %v", err)
				}
			}
			got, member, err := s.LookupToken(ctx, hashOf("secret-00"))
			if err != nil || !member {
				t.Fatalf("neighbour LookupToken = %v, member %v", err, member)
			}
			if diff := cmp.Diff(neighbour, got, protocmp.Transform(), withoutSealed); diff != "" {
				t.Errorf("neighbour token changed (-want +got):\n%s", diff)
			}
			if _, err := s.GetZoo(ctx, "acme-2", "detectors"); err != nil {
				t.Errorf("neighbour GetZoo = %v", err)
			}
		})
	}
}
