package lifecycle

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Reached reports whether the moment at has come by now: at <= now, so an
// expiry or revocation at exactly now has taken effect. A zero at never
// comes (a token without an expiry). Every "expired (or revoked) at now" is
// decided here.
func Reached(at, now time.Time) bool {
	return !at.IsZero() && !at.After(now)
}

// ReachedStamp is Reached for a stored timestamp; nil never comes.
func ReachedStamp(ts *timestamppb.Timestamp, now time.Time) bool {
	return ts != nil && Reached(ts.AsTime(), now)
}
