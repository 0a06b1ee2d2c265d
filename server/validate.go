package server

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Limits on request fields.
const (
	maxIDLen         = 63
	maxDescription   = 256
	defaultPageSize  = 50
	maxPageSize      = 1000
	minSeedLen       = 16
	maxSeedLen       = 256
	neverExpiresSecs = -62135596800 // 0001-01-01T00:00:00Z, the SDK's "never expires"
)

// checkID accepts `[a-z0-9][a-z0-9-]{0,62}`.
func checkID(field, id string) error {
	if id == "" {
		return invalid(field, "is required")
	}
	if len(id) > maxIDLen {
		return invalid(field, "must be at most %d characters", maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0
		if !ok {
			return invalid(field, "must match [a-z0-9][a-z0-9-]{0,62} (lowercase letters, digits and inner hyphens)")
		}
	}
	return nil
}

// checkText accepts up to max characters of valid UTF-8 without control characters.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "must be at most %d characters, got %d", max, n)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// requestedExpiry parses a requested expire_time: zero when absent or the
// SDK's "never expires". Whether it is allowed is for lifecycle.Limits.
func requestedExpiry(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil || ts.GetSeconds() == neverExpiresSecs && ts.GetNanos() == 0 {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, invalid(field, "is not a valid timestamp")
	}
	return ts.AsTime(), nil
}

// pageSize turns a requested page_size into a limit.
func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalid("page_size", "must not be negative")
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

// Page tokens are opaque to clients: the kind of list and the last key
// returned, so that a token of one list is refused by another.
func encodePage(kind, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + last))
}

func decodePage(kind, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", invalid("page_token", "is not a page token returned by this list")
	}
	k, last, ok := strings.Cut(string(raw), "\x00")
	if !ok || k != kind || last == "" {
		return "", invalid("page_token", "is not a page token returned by this list")
	}
	return last, nil
}
