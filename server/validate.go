package server

import (
	"encoding/base64"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
)

// Limits on request fields.
const (
	maxDescription   = 256
	defaultPageSize  = 50
	maxPageSize      = 1000
	minSeedLen       = 32
	maxSeedLen       = 256
	minSeedBits      = 80
	minSeedBitsChar  = 2.5
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

// checkSeed is the rule for the seed the SDK's `token create` sends: what
// Python's secrets.token_urlsafe(32) makes (43 characters) or a hex string
// of at least 16 bytes. A seed is the only secret guarding the pick-up of a
// token, so it must be long, from the URL-safe base64 alphabet, and not
// guessable: seedBits must reach minSeedBits, and minSeedBitsChar per
// character so that repeating a short word many times does not pass.
// Random hex passes with room to spare (docs/benchmarks.md, "Seed
// entropy"); 16 identical characters estimate at 0.
func checkSeed(seed string) error {
	if len(seed) < minSeedLen || len(seed) > maxSeedLen {
		return invalid("seed", "must be %d to %d characters, such as secrets.token_urlsafe(32)", minSeedLen, maxSeedLen)
	}
	for i := 0; i < len(seed); i++ {
		c := seed[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalid("seed", "must use only the URL-safe base64 alphabet [A-Za-z0-9_-]")
		}
	}
	bits := seedBits(seed)
	if bits < minSeedBits || bits/float64(len(seed)) < minSeedBitsChar {
		return invalid("seed", "is too predictable (about %.0f bits; at least %d needed): use a random seed such as secrets.token_urlsafe(32)", bits, minSeedBits)
	}
	return nil
}

// seedBits estimates a seed's entropy: its length times the Shannon
// entropy of its own character frequencies.
func seedBits(seed string) float64 {
	var counts [256]int
	for i := 0; i < len(seed); i++ {
		counts[seed[i]]++
	}
	n := float64(len(seed))
	var bits float64
	for _, k := range counts {
		if k > 0 {
			bits -= float64(k) * math.Log2(float64(k)/n)
		}
	}
	return bits
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
