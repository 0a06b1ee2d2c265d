package lifecycle_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/token"
)

var now = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(d)) }

const (
	active   = pb.TokenState_TOKEN_STATE_ACTIVE
	expired  = pb.TokenState_TOKEN_STATE_EXPIRED
	revoked  = pb.TokenState_TOKEN_STATE_REVOKED
	disabled = pb.TokenState_TOKEN_STATE_DISABLED
)

// TestStateAndReason walks every state and reason across the time edges:
// one nanosecond before, at and after each deadline, with and without
// membership and a workspace policy.
func TestStateAndReason(t *testing.T) {
	t.Parallel()
	created := at(-48 * time.Hour)
	day := &pb.TokenPolicy{MaxLifetime: durationpb.New(48 * time.Hour)}
	familyID, err := token.NewID(now.Add(-72 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	family := &pb.TokenPolicy{MaxFamilyLifetime: durationpb.New(72 * time.Hour)}
	tests := []struct {
		name       string
		tok        *pb.Token
		member     bool
		policy     *pb.TokenPolicy
		want       pb.TokenState
		wantReason pb.Reason
	}{
		{"never expires", &pb.Token{}, true, nil, active, pb.Reason_REASON_VALID},
		{"expires in 1ns", &pb.Token{ExpireTime: at(time.Nanosecond)}, true, nil, active, pb.Reason_REASON_VALID},
		{"expires now", &pb.Token{ExpireTime: at(0)}, true, nil, expired, pb.Reason_REASON_EXPIRED},
		{"expired", &pb.Token{ExpireTime: at(-time.Hour)}, true, nil, expired, pb.Reason_REASON_EXPIRED},
		{"revoke scheduled in 1ns (grace)", &pb.Token{RevokeTime: at(time.Nanosecond)}, true, nil, active, pb.Reason_REASON_VALID},
		{"revoked now", &pb.Token{RevokeTime: at(0)}, true, nil, revoked, pb.Reason_REASON_REVOKED},
		{"revoked and expired", &pb.Token{RevokeTime: at(-time.Hour), ExpireTime: at(-2 * time.Hour)}, true, nil, revoked, pb.Reason_REASON_REVOKED},
		{"grace outlives expiry", &pb.Token{RevokeTime: at(time.Hour), ExpireTime: at(-time.Hour)}, true, nil, expired, pb.Reason_REASON_EXPIRED},
		{"disabled", &pb.Token{Disabled: true}, true, nil, disabled, pb.Reason_REASON_DISABLED},
		{"disabled in grace", &pb.Token{Disabled: true, RevokeTime: at(time.Hour)}, true, nil, disabled, pb.Reason_REASON_DISABLED},
		{"disabled and expired", &pb.Token{Disabled: true, ExpireTime: at(0)}, true, nil, expired, pb.Reason_REASON_EXPIRED},
		{"disabled and revoked", &pb.Token{Disabled: true, RevokeTime: at(0)}, true, nil, revoked, pb.Reason_REASON_REVOKED},
		{"not a member", &pb.Token{}, false, nil, active, pb.Reason_REASON_NOT_MEMBER},
		{"not a member and disabled", &pb.Token{Disabled: true}, false, nil, disabled, pb.Reason_REASON_NOT_MEMBER},
		{"not a member and revoked", &pb.Token{RevokeTime: at(0)}, false, nil, revoked, pb.Reason_REASON_REVOKED},
		{"not a member and expired", &pb.Token{ExpireTime: at(0)}, false, nil, expired, pb.Reason_REASON_EXPIRED},
		{"max_lifetime ends in 1ns", &pb.Token{CreateTime: timestamppb.New(created.AsTime().Add(time.Nanosecond))}, true, day, active, pb.Reason_REASON_VALID},
		{"max_lifetime ends now", &pb.Token{CreateTime: created}, true, day, expired, pb.Reason_REASON_EXPIRED},
		{"max_lifetime lowered below a later expiry", &pb.Token{CreateTime: created, ExpireTime: at(time.Hour)}, true, day, expired, pb.Reason_REASON_EXPIRED},
		{"max_lifetime above the expiry", &pb.Token{CreateTime: created, ExpireTime: at(-time.Nanosecond)}, true, &pb.TokenPolicy{MaxLifetime: durationpb.New(100 * time.Hour)}, expired, pb.Reason_REASON_EXPIRED},
		{"no policy: the stored expiry rules", &pb.Token{CreateTime: created, ExpireTime: at(time.Hour)}, true, nil, active, pb.Reason_REASON_VALID},
		{"family lifetime ends now", &pb.Token{TokenId: "x", FamilyId: familyID, CreateTime: at(-time.Hour)}, true, family, expired, pb.Reason_REASON_EXPIRED},
		{"family lifetime ends in 1ms", &pb.Token{TokenId: "x", FamilyId: familyID, CreateTime: at(-time.Hour)}, true, &pb.TokenPolicy{MaxFamilyLifetime: durationpb.New(72*time.Hour + time.Millisecond)}, active, pb.Reason_REASON_VALID},
		{"first of its family counts from its creation", &pb.Token{TokenId: "first", FamilyId: "first", CreateTime: at(-72*time.Hour + time.Nanosecond)}, true, family, active, pb.Reason_REASON_VALID},
		{"require_expiry alone ends nothing", &pb.Token{CreateTime: created}, true, &pb.TokenPolicy{RequireExpiry: true}, active, pb.Reason_REASON_VALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := lifecycle.StateUnder(tt.tok, tt.policy, now); got != tt.want {
				t.Errorf("StateUnder = %v, want %v", got, tt.want)
			}
			if tt.policy == nil {
				if got := lifecycle.State(tt.tok, now); got != tt.want {
					t.Errorf("State = %v, want %v", got, tt.want)
				}
			}
			if got := lifecycle.Reason(tt.tok, tt.member, tt.policy, now); got != tt.wantReason {
				t.Errorf("Reason = %v, want %v", got, tt.wantReason)
			}
			if got, want := lifecycle.RevokedBy(tt.tok, now), tt.want == revoked; got != want {
				t.Errorf("RevokedBy = %v, want %v", got, want)
			}
		})
	}
}

// TestEveryStateIsReachable guards the rule that adding a state touches
// StateUnder: every TokenState value but UNSPECIFIED must come out of it.
func TestEveryStateIsReachable(t *testing.T) {
	t.Parallel()
	toks := []*pb.Token{{}, {ExpireTime: at(0)}, {RevokeTime: at(0)}, {Disabled: true}}
	seen := map[pb.TokenState]bool{}
	for _, tok := range toks {
		seen[lifecycle.StateUnder(tok, nil, now)] = true
	}
	for v := range pb.TokenState_name {
		st := pb.TokenState(v)
		if st != pb.TokenState_TOKEN_STATE_UNSPECIFIED && !seen[st] {
			t.Errorf("state %v is never produced by StateUnder", st)
		}
	}
}

func TestGraceBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      *durationpb.Duration
		want    time.Duration
		wantErr bool
	}{
		{"absent stops now", nil, 0, false},
		{"zero stops now", durationpb.New(0), 0, false},
		{"1ns", durationpb.New(time.Nanosecond), time.Nanosecond, false},
		{"10 minutes", durationpb.New(10 * time.Minute), 10 * time.Minute, false},
		{"7 days", durationpb.New(lifecycle.MaxGrace), lifecycle.MaxGrace, false},
		{"7 days and 1ns", durationpb.New(lifecycle.MaxGrace + time.Nanosecond), 0, true},
		{"negative", durationpb.New(-time.Nanosecond), 0, true},
		{"malformed", &durationpb.Duration{Seconds: 1, Nanos: -1}, 0, true},
	}
	for _, tt := range tests {
		got, err := lifecycle.Grace(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: Grace = %v, %v; want %v, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
		if err != nil {
			if le, ok := err.(*lifecycle.LimitError); !ok || le.Field != "grace" {
				t.Errorf("%s: error %v does not name the grace field", tt.name, err)
			}
		}
	}
	// The token in grace is active until the instant of its revoke time.
	tok := &pb.Token{ReplacedBy: "n"}
	lifecycle.Retire(tok, "n", now, 10*time.Minute)
	for _, c := range []struct {
		d       time.Duration
		inGrace bool
	}{{0, true}, {10*time.Minute - time.Nanosecond, true}, {10 * time.Minute, false}} {
		if got := lifecycle.InGrace(tok, now.Add(c.d)); got != c.inGrace {
			t.Errorf("InGrace at +%v = %v, want %v", c.d, got, c.inGrace)
		}
		if got := lifecycle.State(tok, now.Add(c.d)) == active; got != c.inGrace {
			t.Errorf("active at +%v = %v, want %v", c.d, got, c.inGrace)
		}
	}
}
