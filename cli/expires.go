package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// parseExpires reads --expires: "never", a duration from now ("30d", "2w",
// "12h", "90m"), a date ("2027-12-31", meaning 00:00 UTC that day) or an RFC
// 3339 time. It returns nil for never.
func parseExpires(s string, now time.Time) (*timestamppb.Timestamp, error) {
	s = strings.TrimSpace(s)
	bad := usageError(fmt.Sprintf("--expires %q: want never, a duration such as 30d, 2w or 12h, a date such as 2027-12-31, or an RFC 3339 time such as 2027-12-31T00:00:00Z", s))
	switch {
	case s == "":
		return nil, usageError("--expires is required: never, a duration such as 30d, a date such as 2027-12-31, or an RFC 3339 time")
	case strings.EqualFold(s, "never"):
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return timestamppb.New(t), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return timestamppb.New(t), nil
	}
	if d, ok := parseDays(s); ok {
		return timestamppb.New(now.Add(d)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return nil, bad
	}
	return timestamppb.New(now.Add(d)), nil
}

// parseDays reads "30d" and "2w", which time.ParseDuration does not know.
func parseDays(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if unit == 0 || err != nil || n <= 0 || n > 100*366 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// parseSpan reads a length of time for flag: a duration ("10m", "12h") or
// days and weeks ("30d", "2w"). Zero ("0", "0s") is allowed.
func parseSpan(flag, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := parseDays(s); ok {
		return d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usageError(fmt.Sprintf("--%s %q: want a length of time such as 10m, 12h, 30d or 2w", flag, s))
	}
	return d, nil
}

// neverTimestamp is how the API spells "no expiry" in a change: the SDK's
// 0001-01-01T00:00:00Z.
func neverTimestamp() *timestamppb.Timestamp {
	return timestamppb.New(time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC))
}
