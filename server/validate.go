package server

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	"tokenauthority/token"
)

// Limits on request fields.
const (
	maxDescription   = 256
	defaultPageSize  = 50
	maxPageSize      = 1000
	maxSeedLen       = token.MaxSeedLen
	neverExpiresSecs = -62135596800 // 0001-01-01T00:00:00Z, the SDK's "never expires"
)

// checkID accepts a workspace, zoo or user id under the id rule
// (access.ValidID), saying which part of the rule id breaks.
func checkID(field, id string) error {
	if id == "" {
		return invalid(field, "is required")
	}
	if len(id) > access.MaxIDLen {
		return invalid(field, "must be at most %d characters", access.MaxIDLen)
	}
	if !access.ValidID(id) {
		return invalid(field, access.IDRule)
	}
	return nil
}

// checkText is the one rule for free text the API stores and shows back
// (descriptions, display names): up to max characters of valid UTF-8 with
// nothing that can make a listing show something other than what is
// stored. It refuses every control character (Unicode category Cc: C0,
// DEL and C1, so also tab and newline: the fields are one-line labels),
// every format character (Cf: bidirectional overrides and isolates such as
// U+202E, zero-width spaces and joiners, the BOM, soft hyphens) and the
// line and paragraph separators U+2028 and U+2029. The error names the
// field and the offending code point.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "must be at most %d characters, got %d", max, n)
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cc, r):
			return invalid(field, "must not contain control characters (found U+%04X)", r)
		case unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029':
			return invalid(field, "must not contain invisible formatting characters such as bidirectional overrides or zero-width characters (found U+%04X)", r)
		}
	}
	return nil
}

// checkSeed is token.CheckSeed as a refusal of the request's seed field.
func checkSeed(seed string) error {
	err := token.CheckSeed(seed)
	var se *token.SeedError
	if errors.As(err, &se) {
		return invalid("seed", "%s", se.Reason)
	}
	return err
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
