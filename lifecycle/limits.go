package lifecycle

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// MaxGrace is the longest grace period a roll may give the old secret.
const MaxGrace = 7 * 24 * time.Hour

// MinPolicyLifetime is the shortest duration a token policy may set: a
// shorter one ends tokens before anyone can use them (seconds typed where
// minutes or days were meant).
const MinPolicyLifetime = time.Minute

// maxPolicyLifetime bounds every duration of a token policy, far below the
// ~292 years a time.Duration holds.
const maxPolicyLifetime = 100 * 365 * 24 * time.Hour

// LimitError is a requested value that breaks a lifetime rule. Field is the
// request field at fault (expire_time, grace, token_policy.max_lifetime,
// ...); Reason completes "<field>: ".
type LimitError struct {
	Field  string
	Reason string
}

func (e *LimitError) Error() string { return e.Field + ": " + e.Reason }

func limitErr(field, format string, args ...any) error {
	return &LimitError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Limits are the lifetime limits in force for one workspace's tokens.
type Limits struct {
	// Policy is the workspace's token policy; nil means none.
	Policy *pb.TokenPolicy
	// Ceiling is the server-wide maximum lifetime from now
	// (--max-token-lifetime); 0 means none. When set, every token needs an
	// expiry. It applies when a token is created, rolled or changed; a token
	// stored before the ceiling was lowered keeps its expiry.
	Ceiling time.Duration
}

// expiryRequired says why a token must have an expiry, or "".
func (l Limits) expiryRequired() string {
	switch {
	case l.Ceiling > 0:
		return fmt.Sprintf("tokens on this server live at most %s", l.Ceiling)
	case l.Policy.GetRequireExpiry():
		return "the workspace's token policy requires an expiry"
	case l.Policy.GetMaxLifetime() != nil:
		return fmt.Sprintf("the workspace's token policy limits tokens to %s", l.Policy.GetMaxLifetime().AsDuration())
	}
	return ""
}

// Issue is the expiry of a token created at now with the requested expiry
// (zero: none requested). Without a request the policy's default_lifetime
// applies; a token that must expire and has no expiry is refused, as is an
// expiry beyond any limit. Zero means never expires.
func (l Limits) Issue(requested, now time.Time) (time.Time, error) {
	if requested.IsZero() {
		if d := l.Policy.GetDefaultLifetime(); d != nil {
			requested = now.Add(d.AsDuration())
		}
	}
	return l.check(requested, now, now, now)
}

// Change is the expiry of token t when changed at now to requested (zero:
// never expires), within the same limits as at creation (max_lifetime
// counts from t's creation, max_family_lifetime from its family's start).
func (l Limits) Change(t *pb.Token, requested, now time.Time) (time.Time, error) {
	created := now
	if ct := t.GetCreateTime(); ct != nil {
		created = ct.AsTime()
	}
	start, ok := FamilyStart(t)
	if !ok {
		start = created
	}
	return l.check(requested, now, created, start)
}

func (l Limits) check(exp, now, created, familyStart time.Time) (time.Time, error) {
	if exp.IsZero() {
		if why := l.expiryRequired(); why != "" {
			return time.Time{}, limitErr("expire_time", "is required: %s", why)
		}
		return time.Time{}, nil
	}
	if Reached(exp, now) {
		return time.Time{}, limitErr("expire_time", "must be in the future")
	}
	if l.Ceiling > 0 && exp.Sub(now) > l.Ceiling {
		return time.Time{}, limitErr("expire_time", "must be at most %s from now", l.Ceiling)
	}
	if d := l.Policy.GetMaxLifetime(); d != nil && exp.Sub(created) > d.AsDuration() {
		return time.Time{}, limitErr("expire_time", "must be at most %s after the token's creation (workspace token policy)", d.AsDuration())
	}
	if d := l.Policy.GetMaxFamilyLifetime(); d != nil && exp.After(familyStart.Add(d.AsDuration())) {
		return time.Time{}, limitErr("expire_time", "must be at most %s after the first token of its family was created (workspace token policy)", d.AsDuration())
	}
	return exp, nil
}

// Roll is the expiry of the token that replaces old at now. Each roll or
// refresh starts a fresh lifetime of the same length as old's (what the
// SDK's refresh expects), so a chain of refreshes can outlive any one
// token; the limits cap it: the ceiling and max_lifetime from now, and
// max_family_lifetime from the family's start, which gives a chain a hard
// end. A token without an expiry that now needs one gets the policy's
// default_lifetime, else its max_lifetime, else the ceiling.
func (l Limits) Roll(old *pb.Token, now time.Time) (time.Time, error) {
	var exp time.Time
	if et, ct := old.GetExpireTime(), old.GetCreateTime(); et != nil && ct != nil {
		exp = now.Add(et.AsTime().Sub(ct.AsTime()))
	} else if l.expiryRequired() != "" {
		switch {
		case l.Policy.GetDefaultLifetime() != nil:
			exp = now.Add(l.Policy.GetDefaultLifetime().AsDuration())
		case l.Policy.GetMaxLifetime() != nil:
			exp = now.Add(l.Policy.GetMaxLifetime().AsDuration())
		case l.Ceiling > 0:
			exp = now.Add(l.Ceiling)
		default:
			return time.Time{}, limitErr("expire_time", "is required by the workspace's token policy; set one on the token before rolling it")
		}
	}
	earliest := func(c time.Time) {
		if exp.IsZero() || c.Before(exp) {
			exp = c
		}
	}
	if l.Ceiling > 0 {
		earliest(now.Add(l.Ceiling))
	}
	if d := l.Policy.GetMaxLifetime(); d != nil {
		earliest(now.Add(d.AsDuration()))
	}
	if d := l.Policy.GetMaxFamilyLifetime(); d != nil {
		if start, ok := FamilyStart(old); ok {
			earliest(start.Add(d.AsDuration()))
		}
	}
	if Reached(exp, now) {
		return time.Time{}, fmt.Errorf("token %q: its family reached the workspace's max_family_lifetime: %w", old.GetTokenId(), ErrExpired)
	}
	return exp, nil
}

// Grace checks a requested grace period: nil or 0 means the old secret
// stops at once; at most MaxGrace.
func Grace(d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, limitErr("grace", "is not a valid duration")
	}
	g := d.AsDuration()
	switch {
	case g < 0:
		return 0, limitErr("grace", "must not be negative")
	case g > MaxGrace:
		return 0, limitErr("grace", "must be at most %s (7 days)", MaxGrace)
	}
	return g, nil
}

// CheckPolicy checks a workspace token policy against the server's ceiling
// (0: none): every lifetime at least MinPolicyLifetime and at most the
// ceiling (and far below what a time.Duration holds), and the
// default lifetime within the maximum. A nil policy is no policy.
func CheckPolicy(p *pb.TokenPolicy, ceiling time.Duration) error {
	durations := []struct {
		field string
		d     *durationpb.Duration
	}{
		{"token_policy.max_lifetime", p.GetMaxLifetime()},
		{"token_policy.default_lifetime", p.GetDefaultLifetime()},
		{"token_policy.max_family_lifetime", p.GetMaxFamilyLifetime()},
	}
	for _, f := range durations {
		if f.d == nil {
			continue
		}
		if err := f.d.CheckValid(); err != nil {
			return limitErr(f.field, "is not a valid duration")
		}
		d := f.d.AsDuration()
		switch {
		case d <= 0:
			return limitErr(f.field, "must be positive (leave it unset for no limit)")
		case d < MinPolicyLifetime:
			return limitErr(f.field, "must be at least %s (it is %s)", MinPolicyLifetime, d)
		case d > maxPolicyLifetime:
			return limitErr(f.field, "must be at most %s", maxPolicyLifetime)
		case ceiling > 0 && d > ceiling && f.field != "token_policy.max_family_lifetime":
			return limitErr(f.field, "must be at most the server's maximum token lifetime of %s", ceiling)
		}
	}
	if def, max := p.GetDefaultLifetime(), p.GetMaxLifetime(); def != nil && max != nil && def.AsDuration() > max.AsDuration() {
		return limitErr("token_policy.default_lifetime", "must not exceed token_policy.max_lifetime")
	}
	return nil
}
