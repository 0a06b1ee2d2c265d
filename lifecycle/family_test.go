package lifecycle_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

func TestRollable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tok    *pb.Token
		policy *pb.TokenPolicy
		want   error
	}{
		{"active", &pb.Token{}, nil, nil},
		{"in grace, not replaced", &pb.Token{RevokeTime: at(time.Minute)}, nil, nil},
		{"revoked", &pb.Token{RevokeTime: at(0)}, nil, lifecycle.ErrRevoked},
		{"expired", &pb.Token{ExpireTime: at(0)}, nil, lifecycle.ErrExpired},
		{"expired by policy", &pb.Token{CreateTime: at(-2 * time.Hour)}, &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Hour)}, lifecycle.ErrExpired},
		{"disabled", &pb.Token{Disabled: true}, nil, lifecycle.ErrDisabled},
		{"replaced, in grace", &pb.Token{ReplacedBy: "n", RevokeTime: at(time.Minute)}, nil, lifecycle.ErrReused},
		{"replaced and revoked: dead first", &pb.Token{ReplacedBy: "n", RevokeTime: at(0)}, nil, lifecycle.ErrRevoked},
	}
	for _, tt := range tests {
		err := lifecycle.Rollable(tt.tok, tt.policy, now)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: Rollable = %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := lifecycle.Changeable(&pb.Token{RevokeTime: at(0)}, now); !errors.Is(err, lifecycle.ErrRevoked) {
		t.Errorf("Changeable(revoked) = %v", err)
	}
	for _, tok := range []*pb.Token{{ExpireTime: at(0)}, {Disabled: true}, {RevokeTime: at(time.Second)}} {
		if err := lifecycle.Changeable(tok, now); err != nil {
			t.Errorf("Changeable(%v) = %v, want nil", tok, err)
		}
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tok        *pb.Token
		changed    bool
		wantAt     *timestamppb.Timestamp
		wantReason pb.RevokeReason
	}{
		{"live", &pb.Token{}, true, at(0), pb.RevokeReason_REVOKE_REASON_LEAKED},
		{"grace brought forward", &pb.Token{RevokeTime: at(time.Minute), RevokeReason: pb.RevokeReason_REVOKE_REASON_ROLLED}, true, at(0), pb.RevokeReason_REVOKE_REASON_LEAKED},
		{"already revoked now", &pb.Token{RevokeTime: at(0), RevokeReason: pb.RevokeReason_REVOKE_REASON_ADMIN}, false, at(0), pb.RevokeReason_REVOKE_REASON_ADMIN},
		{"revoked earlier", &pb.Token{RevokeTime: at(-time.Hour), RevokeReason: pb.RevokeReason_REVOKE_REASON_USER}, false, at(-time.Hour), pb.RevokeReason_REVOKE_REASON_USER},
	}
	for _, tt := range tests {
		if got := lifecycle.Revoke(tt.tok, now, pb.RevokeReason_REVOKE_REASON_LEAKED); got != tt.changed {
			t.Errorf("%s: Revoke changed = %v, want %v", tt.name, got, tt.changed)
		}
		if !tt.tok.GetRevokeTime().AsTime().Equal(tt.wantAt.AsTime()) || tt.tok.GetRevokeReason() != tt.wantReason {
			t.Errorf("%s: after Revoke = %v at %v; want %v at %v", tt.name, tt.tok.GetRevokeReason(), tt.tok.GetRevokeTime().AsTime(), tt.wantReason, tt.wantAt.AsTime())
		}
	}
}

func TestSuccessorAndRetire(t *testing.T) {
	t.Parallel()
	old := &pb.Token{
		TokenId: "a", WorkspaceId: "acme", UserId: "ann", Description: "ci",
		Operations: []pb.Operation{download}, Zoos: []string{"acme/z"}, Disabled: true,
	}
	next := &pb.Token{TokenId: "b", MaskedKey: "m", ReplacedBy: "junk"}
	lifecycle.Successor(old, next)
	want := &pb.Token{
		TokenId: "b", WorkspaceId: "acme", UserId: "ann", Description: "ci", MaskedKey: "m",
		Operations: []pb.Operation{download}, Zoos: []string{"acme/z"}, Replaces: "a", FamilyId: "a",
	}
	if diff := cmp.Diff(want, next, protocmp.Transform()); diff != "" {
		t.Errorf("Successor (-want +got):\n%s", diff)
	}
	next.Zoos[0] = "changed"
	if old.Zoos[0] != "acme/z" {
		t.Error("Successor shares the zoos slice with the old token")
	}

	lifecycle.Retire(old, "b", now, time.Hour)
	if old.ReplacedBy != "b" || old.FamilyId != "a" || !old.RevokeTime.AsTime().Equal(now.Add(time.Hour)) || old.RevokeReason != pb.RevokeReason_REVOKE_REASON_ROLLED {
		t.Errorf("Retire = %v", old)
	}
	// An earlier scheduled revocation stands, with its reason.
	early := &pb.Token{TokenId: "c", FamilyId: "f", RevokeTime: at(time.Minute), RevokeReason: pb.RevokeReason_REVOKE_REASON_ADMIN}
	lifecycle.Retire(early, "d", now, time.Hour)
	if !early.RevokeTime.AsTime().Equal(now.Add(time.Minute)) || early.RevokeReason != pb.RevokeReason_REVOKE_REASON_ADMIN || early.FamilyId != "f" {
		t.Errorf("Retire over an earlier revocation = %v", early)
	}
	// Grace 0 stops the old secret at once.
	zero := &pb.Token{TokenId: "e"}
	lifecycle.Retire(zero, "f", now, 0)
	if lifecycle.State(zero, now) != revoked {
		t.Errorf("Retire with no grace left the token %v", lifecycle.State(zero, now))
	}
}

func TestRepeatRefresh(t *testing.T) {
	t.Parallel()
	const within = 30 * time.Second
	old := func() *pb.Token {
		return &pb.Token{TokenId: "a", FamilyId: "a", ReplacedBy: "b", RevokeTime: at(10 * time.Minute)}
	}
	next := func(age time.Duration) *pb.Token {
		return &pb.Token{TokenId: "b", FamilyId: "a", Replaces: "a", CreateTime: at(-age)}
	}
	tests := []struct {
		name   string
		old    *pb.Token
		next   *pb.Token
		policy *pb.TokenPolicy
		within time.Duration
		want   bool
	}{
		{"just made", old(), next(0), nil, within, true},
		{"1ns before the interval ends", old(), next(within - time.Nanosecond), nil, within, true},
		{"at the interval's end", old(), next(within), nil, within, false},
		{"after it", old(), next(time.Hour), nil, within, false},
		{"stamped ahead of now by another clock", old(), next(-time.Second), nil, within, true},
		{"interval 0 disables", old(), next(0), nil, 0, false},
		{"negative interval", old(), next(0), nil, -time.Second, false},
		{"not old's successor", old(), &pb.Token{TokenId: "b", Replaces: "x", CreateTime: at(0)}, nil, within, false},
		{"old replaced by another", &pb.Token{TokenId: "a", ReplacedBy: "c"}, next(0), nil, within, false},
		{"successor refreshed in turn", old(), func() *pb.Token { n := next(0); n.ReplacedBy = "c"; return n }(), nil, within, false},
		{"successor revoked", old(), func() *pb.Token { n := next(0); n.RevokeTime = at(0); return n }(), nil, within, false},
		{"successor disabled", old(), func() *pb.Token { n := next(0); n.Disabled = true; return n }(), nil, within, false},
		{"successor expired", old(), func() *pb.Token { n := next(0); n.ExpireTime = at(0); return n }(), nil, within, false},
		{"successor ended by policy", old(), next(time.Second), &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Second)}, within, false},
		{"successor without create time", old(), &pb.Token{TokenId: "b", Replaces: "a"}, nil, within, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := lifecycle.RepeatRefresh(tt.old, tt.next, tt.policy, tt.within, now); got != tt.want {
				t.Errorf("RepeatRefresh = %v, want %v", got, tt.want)
			}
		})
	}
}
