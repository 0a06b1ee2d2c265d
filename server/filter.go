package server

import (
	"slices"
	"strconv"
	"strings"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// tokenFilter is what ListTokens keeps: by owner for a member, by state
// (with show_revoked when no state is named) and by expiry.
type tokenFilter struct {
	// user, when set, keeps only that user's tokens (member mode).
	user string
	// states, when not empty, are the states to keep; naming
	// TOKEN_STATE_REVOKED lists revoked tokens whatever show_revoked says.
	states      []pb.TokenState
	showRevoked bool
	// expireBefore, when not zero, keeps only tokens that stop by expiry
	// (their own or a limit of policy) before it; tokens that never expire
	// are left out.
	expireBefore time.Time
	// policy is the workspace's token policy (nil: none), applied to the
	// state and the end of each token.
	policy *pb.TokenPolicy
	now    time.Time
}

// newTokenFilter checks the filter fields of a ListTokens request.
func newTokenFilter(req *pb.ListTokensRequest, now time.Time) (tokenFilter, error) {
	f := tokenFilter{showRevoked: req.GetShowRevoked(), now: now}
	for i, st := range req.GetStates() {
		if _, known := pb.TokenState_name[int32(st)]; !known || st == pb.TokenState_TOKEN_STATE_UNSPECIFIED {
			return tokenFilter{}, invalid("states", "entry %d is not a token state (TOKEN_STATE_ACTIVE, _EXPIRED, _REVOKED or _DISABLED)", i)
		}
		if !slices.Contains(f.states, st) {
			f.states = append(f.states, st)
		}
	}
	slices.Sort(f.states)
	if ts := req.GetExpireBefore(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return tokenFilter{}, invalid("expire_before", "is not a valid timestamp")
		}
		f.expireBefore = ts.AsTime()
	}
	return f, nil
}

// match reports whether t passes the filter.
func (f tokenFilter) match(t *pb.Token) bool {
	if f.user != "" && t.GetUserId() != f.user {
		return false
	}
	st := lifecycle.StateUnder(t, f.policy, f.now)
	switch {
	case len(f.states) > 0:
		if !slices.Contains(f.states, st) {
			return false
		}
	case !f.showRevoked && st == pb.TokenState_TOKEN_STATE_REVOKED:
		return false
	}
	if !f.expireBefore.IsZero() {
		end := lifecycle.End(t, f.policy)
		if end.IsZero() || !end.Before(f.expireBefore) {
			return false
		}
	}
	return true
}

// pageKind names the list a page token belongs to, so that a page token is
// refused by a list with other filters. Without filters it is the plain
// "tokens/<workspace>[/all]" of earlier page tokens.
func (f tokenFilter) pageKind(workspaceID string) string {
	var b strings.Builder
	b.WriteString("tokens/" + workspaceID)
	if f.showRevoked {
		b.WriteString("/all")
	}
	if len(f.states) > 0 {
		b.WriteString("/s")
		for _, st := range f.states {
			b.WriteString("." + strconv.Itoa(int(st)))
		}
	}
	if !f.expireBefore.IsZero() {
		b.WriteString("/e" + strconv.FormatInt(f.expireBefore.UnixNano(), 10))
	}
	return b.String()
}
