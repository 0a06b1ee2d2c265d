package storage_test

import (
	"errors"
	"fmt"
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
		{strings.Repeat("a", storage.MaxIDLen), nil},
		{"", storage.ErrInvalid},
		{"a\x00b", storage.ErrInvalid},
		{strings.Repeat("a", storage.MaxIDLen+1), storage.ErrInvalid},
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
