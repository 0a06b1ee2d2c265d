package bbolt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

func TestAddGetMember(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	tests := []struct {
		name string
		m    *pb.Member
		want error
	}{
		{"new", &pb.Member{WorkspaceId: "acme", UserId: "bob", CreateTime: timestamppb.New(t0)}, nil},
		{"already", &pb.Member{WorkspaceId: "acme", UserId: "ann"}, storage.ErrAlreadyExists},
		{"no workspace", &pb.Member{WorkspaceId: "nope", UserId: "ann"}, storage.ErrNotFound},
		{"nil", nil, storage.ErrInvalid},
		{"empty user", &pb.Member{WorkspaceId: "acme"}, storage.ErrInvalid},
		{"separator in user", &pb.Member{WorkspaceId: "acme", UserId: "x\x00y"}, storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AddMember(ctx, tt.m)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("AddMember = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			got, err := s.GetMember(ctx, tt.m.WorkspaceId, tt.m.UserId)
			if err != nil {
				t.Fatalf("GetMember = %v", err)
			}
			if diff := cmp.Diff(tt.m, got, protocmp.Transform()); diff != "" {
				t.Errorf("GetMember (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.GetMember(ctx, "acme", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMember(nope) = %v, want ErrNotFound", err)
	}
}

func TestListMembersPages(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "dan", "ann", "cat", "bob")
	addWorkspace(t, s, "acme-2", "eve")
	addWorkspace(t, s, "empty")
	tests := []struct {
		ws    string
		after string
		limit int
		want  []string
		err   error
	}{
		{"acme", "", 3, []string{"ann", "bob", "cat"}, nil},
		{"acme", "cat", 3, []string{"dan"}, nil},
		{"acme", "dan", 3, nil, nil},
		{"acme", "", 0, []string{"ann", "bob", "cat", "dan"}, nil},
		{"acme-2", "", 0, []string{"eve"}, nil},
		{"empty", "", 0, nil, nil},
		{"nope", "", 0, nil, storage.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := s.ListMembers(context.Background(), tt.ws, tt.after, tt.limit)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Fatalf("ListMembers(%q, %q, %d) = %v, want %v", tt.ws, tt.after, tt.limit, err, tt.err)
		}
		var ids []string
		for _, m := range got {
			ids = append(ids, m.UserId)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("ListMembers(%q, %q, %d) (-want +got):\n%s", tt.ws, tt.after, tt.limit, diff)
		}
	}
}

func TestRemoveMemberRevokesOnlyThatUsersTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	addWorkspace(t, s, "beta", "ann")
	now := t0.Add(time.Hour)
	earlier, later := now.Add(-time.Minute), now.Add(time.Minute)

	addToken(t, s, "acme", "ann", "01") // live: revoked at now
	addToken(t, s, "acme", "ann", "02") // revoked earlier: kept as is
	addToken(t, s, "acme", "ann", "03") // revocation scheduled later: moved to now
	addToken(t, s, "acme", "bob", "04") // another user
	addToken(t, s, "beta", "ann", "05") // same user, another workspace
	if _, err := s.RevokeToken(ctx, "acme", "02", earlier, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeToken(ctx, "acme", "03", later, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}

	revoked, err := s.RemoveMember(ctx, "acme", "ann", now)
	if err != nil {
		t.Fatalf("RemoveMember = %v", err)
	}
	if revoked != 2 {
		t.Errorf("RemoveMember revoked %d tokens, want 2", revoked)
	}
	want := map[string]struct {
		ws     string
		revoke *time.Time
	}{
		"01": {"acme", &now},
		"02": {"acme", &earlier},
		"03": {"acme", &now},
		"04": {"acme", nil},
		"05": {"beta", nil},
	}
	for id, w := range want {
		rec, err := s.GetToken(ctx, w.ws, id)
		if err != nil {
			t.Fatalf("GetToken(%s) = %v", id, err)
		}
		got := rec.Token.GetRevokeTime()
		switch {
		case w.revoke == nil && got != nil:
			t.Errorf("token %s revoke_time = %v, want unset", id, got.AsTime())
		case w.revoke != nil && (got == nil || !got.AsTime().Equal(*w.revoke)):
			t.Errorf("token %s revoke_time = %v, want %v", id, got, *w.revoke)
		}
	}
	if _, err := s.GetMember(ctx, "acme", "ann"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMember after RemoveMember = %v, want ErrNotFound", err)
	}
	if _, member, err := s.LookupToken(ctx, hashOf("secret-05")); err != nil || !member {
		t.Errorf("LookupToken(beta token) = member %v, %v; want member", member, err)
	}
	if _, member, err := s.LookupToken(ctx, hashOf("secret-01")); err != nil || member {
		t.Errorf("LookupToken(acme token) = member %v, %v; want not a member", member, err)
	}
}

func TestRemoveMemberErrors(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	tests := []struct {
		name, ws, user string
		want           error
	}{
		{"not a member", "acme", "bob", storage.ErrNotFound},
		{"no workspace", "nope", "ann", storage.ErrNotFound},
		{"empty user", "acme", "", storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.RemoveMember(context.Background(), tt.ws, tt.user, t0)
			if !errors.Is(err, tt.want) || n != 0 {
				t.Errorf("RemoveMember = %d, %v; want 0, %v", n, err, tt.want)
			}
		})
	}
}
