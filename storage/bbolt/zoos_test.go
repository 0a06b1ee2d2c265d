package bbolt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

func addZoo(t testing.TB, s *bbolt.Store, ws, zoo string, v pb.Visibility) *pb.Zoo {
	t.Helper()
	z := &pb.Zoo{WorkspaceId: ws, ZooId: zoo, Visibility: v, CreateTime: timestamppb.New(t0)}
	if err := s.CreateZoo(context.Background(), z); err != nil {
		t.Fatalf("CreateZoo(%s/%s) = %v", ws, zoo, err)
	}
	return z
}

func TestCreateGetZoo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme")
	addZoo(t, s, "acme", "taken", pb.Visibility_VISIBILITY_PUBLIC)
	tests := []struct {
		name string
		zoo  *pb.Zoo
		want error
	}{
		{"new", &pb.Zoo{WorkspaceId: "acme", ZooId: "detectors", Visibility: pb.Visibility_VISIBILITY_PRIVATE}, nil},
		{"same id elsewhere is another zoo", &pb.Zoo{WorkspaceId: "acme", ZooId: "taken2"}, nil},
		{"taken", &pb.Zoo{WorkspaceId: "acme", ZooId: "taken"}, storage.ErrAlreadyExists},
		{"no workspace", &pb.Zoo{WorkspaceId: "nope", ZooId: "z"}, storage.ErrNotFound},
		{"nil", nil, storage.ErrInvalid},
		{"empty zoo id", &pb.Zoo{WorkspaceId: "acme"}, storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateZoo(ctx, tt.zoo)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CreateZoo = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			got, err := s.GetZoo(ctx, tt.zoo.WorkspaceId, tt.zoo.ZooId)
			if err != nil {
				t.Fatalf("GetZoo = %v", err)
			}
			if diff := cmp.Diff(tt.zoo, got, protocmp.Transform()); diff != "" {
				t.Errorf("GetZoo (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.GetZoo(ctx, "acme", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetZoo(nope) = %v, want ErrNotFound", err)
	}
}

func TestListZoosPages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme")
	addWorkspace(t, s, "acme-2")
	for _, id := range []string{"c", "a", "b"} {
		addZoo(t, s, "acme", id, pb.Visibility_VISIBILITY_PUBLIC)
	}
	addZoo(t, s, "acme-2", "a", pb.Visibility_VISIBILITY_PUBLIC)
	tests := []struct {
		ws    string
		after string
		limit int
		want  []string
		err   error
	}{
		{"acme", "", 2, []string{"a", "b"}, nil},
		{"acme", "b", 2, []string{"c"}, nil},
		{"acme", "c", 2, nil, nil},
		{"acme-2", "", 0, []string{"a"}, nil},
		{"nope", "", 0, nil, storage.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := s.ListZoos(context.Background(), tt.ws, tt.after, tt.limit)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Fatalf("ListZoos(%q, %q, %d) = %v, want %v", tt.ws, tt.after, tt.limit, err, tt.err)
		}
		var ids []string
		for _, z := range got {
			ids = append(ids, z.ZooId)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("ListZoos(%q, %q, %d) (-want +got):\n%s", tt.ws, tt.after, tt.limit, diff)
		}
	}
}

func TestUpdateZoo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme")
	z := addZoo(t, s, "acme", "detectors", pb.Visibility_VISIBILITY_PUBLIC)
	tests := []struct {
		name string
		zoo  string
		v    pb.Visibility
		want error
	}{
		{"to private", "detectors", pb.Visibility_VISIBILITY_PRIVATE, nil},
		{"back to public", "detectors", pb.Visibility_VISIBILITY_PUBLIC, nil},
		{"missing", "nope", pb.Visibility_VISIBILITY_PUBLIC, storage.ErrNotFound},
		{"unspecified", "detectors", pb.Visibility_VISIBILITY_UNSPECIFIED, storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UpdateZoo(ctx, "acme", tt.zoo, tt.v)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("UpdateZoo = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			want := &pb.Zoo{WorkspaceId: "acme", ZooId: tt.zoo, Visibility: tt.v, CreateTime: z.CreateTime}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("UpdateZoo (-want +got):\n%s", diff)
			}
			stored, err := s.GetZoo(ctx, "acme", tt.zoo)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, stored, protocmp.Transform()); diff != "" {
				t.Errorf("GetZoo after UpdateZoo (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteZoo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme")
	addZoo(t, s, "acme", "detectors", pb.Visibility_VISIBILITY_PUBLIC)
	tests := []struct {
		name string
		zoo  string
		want error
	}{
		{"present", "detectors", nil},
		{"again", "detectors", storage.ErrNotFound},
		{"never existed", "nope", storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.DeleteZoo(ctx, "acme", tt.zoo)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("DeleteZoo = %v, want %v", err, tt.want)
			}
			if _, err := s.GetZoo(ctx, "acme", tt.zoo); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("GetZoo after DeleteZoo = %v, want ErrNotFound", err)
			}
		})
	}
}
