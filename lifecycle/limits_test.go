package lifecycle_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/token"
)

const day = 24 * time.Hour

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// TestIssue covers the limits at creation: default lifetime, required
// expiry, the server ceiling and the policy maximum, at their edges.
func TestIssue(t *testing.T) {
	t.Parallel()
	never := time.Time{}
	tests := []struct {
		name      string
		limits    lifecycle.Limits
		requested time.Time
		want      time.Time
		errHas    string // substring of the error; "" for success
	}{
		{"no limits, no expiry", lifecycle.Limits{}, never, never, ""},
		{"no limits, expiry kept", lifecycle.Limits{}, now.Add(400 * day), now.Add(400 * day), ""},
		{"expiry now", lifecycle.Limits{}, now, never, "in the future"},
		{"expiry in the past", lifecycle.Limits{}, now.Add(-time.Second), never, "in the future"},
		{"default lifetime fills in", lifecycle.Limits{Policy: &pb.TokenPolicy{DefaultLifetime: dur(30 * day)}}, never, now.Add(30 * day), ""},
		{"default lifetime does not override", lifecycle.Limits{Policy: &pb.TokenPolicy{DefaultLifetime: dur(30 * day)}}, now.Add(day), now.Add(day), ""},
		{"require_expiry", lifecycle.Limits{Policy: &pb.TokenPolicy{RequireExpiry: true}}, never, never, "requires an expiry"},
		{"require_expiry with default", lifecycle.Limits{Policy: &pb.TokenPolicy{RequireExpiry: true, DefaultLifetime: dur(day)}}, never, now.Add(day), ""},
		{"max_lifetime needs an expiry", lifecycle.Limits{Policy: &pb.TokenPolicy{MaxLifetime: dur(day)}}, never, never, "limits tokens to 24h0m0s"},
		{"max_lifetime at the edge", lifecycle.Limits{Policy: &pb.TokenPolicy{MaxLifetime: dur(day)}}, now.Add(day), now.Add(day), ""},
		{"max_lifetime 1ns over", lifecycle.Limits{Policy: &pb.TokenPolicy{MaxLifetime: dur(day)}}, now.Add(day + time.Nanosecond), never, "at most 24h0m0s after the token's creation"},
		{"ceiling needs an expiry", lifecycle.Limits{Ceiling: day}, never, never, "live at most 24h0m0s"},
		{"ceiling at the edge", lifecycle.Limits{Ceiling: day}, now.Add(day), now.Add(day), ""},
		{"ceiling 1ns over", lifecycle.Limits{Ceiling: day}, now.Add(day + time.Nanosecond), never, "at most 24h0m0s from now"},
		{"ceiling below the policy", lifecycle.Limits{Ceiling: day, Policy: &pb.TokenPolicy{MaxLifetime: dur(30 * day)}}, now.Add(2 * day), never, "from now"},
		{"policy below the ceiling", lifecycle.Limits{Ceiling: 30 * day, Policy: &pb.TokenPolicy{MaxLifetime: dur(day)}}, now.Add(2 * day), never, "after the token's creation"},
		{"default beyond the ceiling refused", lifecycle.Limits{Ceiling: day, Policy: &pb.TokenPolicy{DefaultLifetime: dur(2 * day)}}, never, never, "from now"},
		{"family lifetime at creation", lifecycle.Limits{Policy: &pb.TokenPolicy{MaxFamilyLifetime: dur(day)}}, now.Add(day + time.Nanosecond), never, "first token of its family"},
	}
	for _, tt := range tests {
		got, err := tt.limits.Issue(tt.requested, now)
		if tt.errHas == "" {
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("%s: Issue = %v, %v; want %v", tt.name, got, err, tt.want)
			}
			continue
		}
		var le *lifecycle.LimitError
		if !errors.As(err, &le) || le.Field != "expire_time" || !strings.Contains(le.Reason, tt.errHas) {
			t.Errorf("%s: Issue error = %v; want an expire_time LimitError saying %q", tt.name, err, tt.errHas)
		}
	}
}

// TestChange covers a changed expiry: max_lifetime counts from the
// token's creation, the family limit from the family's start.
func TestChange(t *testing.T) {
	t.Parallel()
	familyID, err := token.NewID(now.Add(-10 * day))
	if err != nil {
		t.Fatal(err)
	}
	tok := &pb.Token{TokenId: "x", FamilyId: familyID, CreateTime: timestamppb.New(now.Add(-day))}
	tests := []struct {
		name      string
		policy    *pb.TokenPolicy
		requested time.Time
		ok        bool
	}{
		{"max_lifetime from creation: edge", &pb.TokenPolicy{MaxLifetime: dur(2 * day)}, now.Add(day), true},
		{"max_lifetime from creation: over", &pb.TokenPolicy{MaxLifetime: dur(2 * day)}, now.Add(day + time.Nanosecond), false},
		{"family from its start: edge", &pb.TokenPolicy{MaxFamilyLifetime: dur(11 * day)}, now.Add(day), true},
		{"family from its start: over", &pb.TokenPolicy{MaxFamilyLifetime: dur(11 * day)}, now.Add(day + time.Millisecond), false},
		{"never, no policy", nil, time.Time{}, true},
		{"never, required", &pb.TokenPolicy{RequireExpiry: true}, time.Time{}, false},
		{"default does not apply to a change", &pb.TokenPolicy{DefaultLifetime: dur(day)}, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := lifecycle.Limits{Policy: tt.policy}.Change(tok, tt.requested, now)
		if (err == nil) != tt.ok || (tt.ok && !got.Equal(tt.requested)) {
			t.Errorf("%s: Change = %v, %v; want ok %v", tt.name, got, err, tt.ok)
		}
	}
}

// TestRoll covers the expiry of a rolled token: a fresh lifetime of the
// old one's length, capped by every limit.
func TestRoll(t *testing.T) {
	t.Parallel()
	familyID, err := token.NewID(now.Add(-20 * day))
	if err != nil {
		t.Fatal(err)
	}
	thirty := &pb.Token{TokenId: "x", FamilyId: familyID, CreateTime: timestamppb.New(now.Add(-29 * day)), ExpireTime: timestamppb.New(now.Add(day))}
	forever := &pb.Token{TokenId: "x", FamilyId: familyID, CreateTime: timestamppb.New(now.Add(-29 * day))}
	tests := []struct {
		name   string
		old    *pb.Token
		limits lifecycle.Limits
		want   time.Time
		err    error
	}{
		{"fresh lifetime of the same length", thirty, lifecycle.Limits{}, now.Add(30 * day), nil},
		{"never stays never", forever, lifecycle.Limits{}, time.Time{}, nil},
		{"ceiling caps", thirty, lifecycle.Limits{Ceiling: 7 * day}, now.Add(7 * day), nil},
		{"ceiling gives never an end", forever, lifecycle.Limits{Ceiling: 7 * day}, now.Add(7 * day), nil},
		{"max_lifetime caps", thirty, lifecycle.Limits{Policy: &pb.TokenPolicy{MaxLifetime: dur(10 * day)}}, now.Add(10 * day), nil},
		{"default for never when required", forever, lifecycle.Limits{Policy: &pb.TokenPolicy{RequireExpiry: true, DefaultLifetime: dur(3 * day)}}, now.Add(3 * day), nil},
		{"required without any length", forever, lifecycle.Limits{Policy: &pb.TokenPolicy{RequireExpiry: true}}, time.Time{}, nil},
		{"family end caps", thirty, lifecycle.Limits{Policy: &pb.TokenPolicy{MaxFamilyLifetime: dur(25 * day)}}, now.Add(5 * day), nil},
		{"family ended", thirty, lifecycle.Limits{Policy: &pb.TokenPolicy{MaxFamilyLifetime: dur(20 * day)}}, time.Time{}, lifecycle.ErrExpired},
	}
	for _, tt := range tests {
		got, err := tt.limits.Roll(tt.old, now)
		if tt.name == "required without any length" {
			var le *lifecycle.LimitError
			if !errors.As(err, &le) {
				t.Errorf("%s: Roll = %v, %v; want a LimitError", tt.name, got, err)
			}
			continue
		}
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || !got.Equal(tt.want) {
			t.Errorf("%s: Roll = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestCheckPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  *pb.TokenPolicy
		ceiling time.Duration
		field   string // "" for valid
	}{
		{"none", nil, 0, ""},
		{"empty", &pb.TokenPolicy{}, 0, ""},
		{"all set", &pb.TokenPolicy{MaxLifetime: dur(90 * day), DefaultLifetime: dur(30 * day), RequireExpiry: true, MaxFamilyLifetime: dur(365 * day)}, 0, ""},
		{"zero max", &pb.TokenPolicy{MaxLifetime: dur(0)}, 0, "token_policy.max_lifetime"},
		{"negative default", &pb.TokenPolicy{DefaultLifetime: dur(-time.Second)}, 0, "token_policy.default_lifetime"},
		{"malformed family", &pb.TokenPolicy{MaxFamilyLifetime: &durationpb.Duration{Seconds: -1, Nanos: 1}}, 0, "token_policy.max_family_lifetime"},
		{"1ns max", &pb.TokenPolicy{MaxLifetime: dur(time.Nanosecond)}, 0, "token_policy.max_lifetime"},
		{"59s default", &pb.TokenPolicy{DefaultLifetime: dur(59 * time.Second)}, 0, "token_policy.default_lifetime"},
		{"1m-1ns family", &pb.TokenPolicy{MaxFamilyLifetime: dur(time.Minute - time.Nanosecond)}, 0, "token_policy.max_family_lifetime"},
		{"1m everywhere", &pb.TokenPolicy{MaxLifetime: dur(time.Minute), DefaultLifetime: dur(time.Minute), MaxFamilyLifetime: dur(time.Minute)}, 0, ""},
		{"huge", &pb.TokenPolicy{MaxLifetime: &durationpb.Duration{Seconds: 315576000000}}, 0, "token_policy.max_lifetime"},
		{"beyond a Duration", &pb.TokenPolicy{DefaultLifetime: &durationpb.Duration{Seconds: 315576000001}}, 0, "token_policy.default_lifetime"},
		{"absurd", &pb.TokenPolicy{MaxLifetime: dur(200 * 365 * day)}, 0, "token_policy.max_lifetime"},
		{"default over max", &pb.TokenPolicy{MaxLifetime: dur(day), DefaultLifetime: dur(2 * day)}, 0, "token_policy.default_lifetime"},
		{"max over the ceiling", &pb.TokenPolicy{MaxLifetime: dur(2 * day)}, day, "token_policy.max_lifetime"},
		{"max at the ceiling", &pb.TokenPolicy{MaxLifetime: dur(day)}, day, ""},
		{"family may exceed the ceiling", &pb.TokenPolicy{MaxFamilyLifetime: dur(10 * day)}, day, ""},
	}
	for _, tt := range tests {
		err := lifecycle.CheckPolicy(tt.policy, tt.ceiling)
		var le *lifecycle.LimitError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: CheckPolicy = %v, want nil", tt.name, err)
		case tt.field != "" && (!errors.As(err, &le) || le.Field != tt.field):
			t.Errorf("%s: CheckPolicy = %v, want an error on %s", tt.name, err, tt.field)
		}
	}
}
