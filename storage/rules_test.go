package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

func TestCheckID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want error
	}{
		{"acme", nil},
		{"a-b-9", nil},
		{strings.Repeat("a", storage.MaxKeyIDLen), nil},
		{"", storage.ErrInvalid},
		{"a\x00b", storage.ErrInvalid},
		{strings.Repeat("a", storage.MaxKeyIDLen+1), storage.ErrInvalid},
	}
	for _, tt := range tests {
		if got := storage.CheckID("workspace", tt.id); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
			t.Errorf("CheckID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestSplitRevoked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ids  int
		per  int
		want []int // ids per event, the first being ev itself
	}{
		{0, 3, []int{0}},
		{3, 3, []int{3}},
		{4, 3, []int{3, 1}},
		{9, 3, []int{3, 3, 3}},
		{10, 3, []int{3, 3, 3, 1}},
	}
	for _, tt := range tests {
		ev := &pb.AuditEvent{Actor: "admin", Action: "token.batch_revoke", WorkspaceId: "acme", Target: "ann"}
		for i := range tt.ids {
			ev.RevokedTokenIds = append(ev.RevokedTokenIds, fmt.Sprint(i))
		}
		all := append([]string(nil), ev.RevokedTokenIds...)
		events := append([]*pb.AuditEvent{ev}, storage.SplitRevoked(ev, tt.per)...)
		var got []int
		var named []string
		for _, e := range events {
			got = append(got, len(e.GetRevokedTokenIds()))
			named = append(named, e.GetRevokedTokenIds()...)
			if e.GetActor() != "admin" || e.GetAction() != "token.batch_revoke" || e.GetWorkspaceId() != "acme" || e.GetTarget() != "ann" {
				t.Errorf("%d ids by %d: event %v is not a copy of the first", tt.ids, tt.per, e)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%d ids by %d: events of %v ids, want %v", tt.ids, tt.per, got, tt.want)
		}
		if fmt.Sprint(named) != fmt.Sprint(all) {
			t.Errorf("%d ids by %d: events name %v, want %v in order", tt.ids, tt.per, named, all)
		}
	}
}

func TestRevokeIDs(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 26), strings.Repeat("b", 26)
	tests := []struct {
		name string
		ws   string
		ids  []string
		want []string
		err  error
	}{
		{"repeats count once, first order kept", "acme", []string{b, a, b}, []string{b, a}, nil},
		{"none", "acme", nil, []string{}, nil},
		{"empty workspace", "", []string{a}, nil, storage.ErrInvalid},
		{"token id with a 0x00 byte", "acme", []string{a, "x\x00"}, nil, storage.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storage.RevokeIDs(tc.ws, tc.ids)
			if !errors.Is(err, tc.err) {
				t.Fatalf("RevokeIDs = %v; want %v", err, tc.err)
			}
			if tc.err == nil && !slices.Equal(got, tc.want) {
				t.Errorf("RevokeIDs = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestChangeTokenGuardsWhatOnlyOtherPathsSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*pb.Token, *pb.TokenPolicy) error
		flipped bool
		err     error
	}{
		{"description", func(t *pb.Token, _ *pb.TokenPolicy) error { t.Description = "new"; return nil }, false, nil},
		{"disable", func(t *pb.Token, _ *pb.TokenPolicy) error { t.Disabled = true; return nil }, true, nil},
		{"refused by change", func(*pb.Token, *pb.TokenPolicy) error { return storage.ErrNotMember }, false, storage.ErrNotMember},
		{"id", func(t *pb.Token, _ *pb.TokenPolicy) error { t.TokenId = "other"; return nil }, false, storage.ErrInvalid},
		{"user", func(t *pb.Token, _ *pb.TokenPolicy) error { t.UserId = "bob"; return nil }, false, storage.ErrInvalid},
		{"family", func(t *pb.Token, _ *pb.TokenPolicy) error { t.ReplacedBy = "x"; return nil }, false, storage.ErrInvalid},
		{"revocation", func(t *pb.Token, _ *pb.TokenPolicy) error {
			t.RevokeReason = pb.RevokeReason_REVOKE_REASON_USER
			return nil
		}, false, storage.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := &pb.Token{TokenId: "t1", WorkspaceId: "acme", UserId: "ann", Description: "old"}
			flipped, err := storage.ChangeToken(tok, nil, tc.change)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ChangeToken = %v; want %v", err, tc.err)
			}
			if flipped != tc.flipped {
				t.Errorf("flipped = %v; want %v", flipped, tc.flipped)
			}
		})
	}
}
