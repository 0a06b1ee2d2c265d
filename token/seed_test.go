package token_test

import (
	"errors"
	"strings"
	"testing"

	"tokenauthority/token"
)

// TestCheckSeed: seeds have the SDK's shape (secrets.token_urlsafe(32)) or
// at least a long random hex string; guessable ones are refused with a
// reason that never repeats the seed.
func TestCheckSeed(t *testing.T) {
	t.Parallel()
	urlsafe := "qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE"
	tests := []struct {
		name, seed string
		want       string // part of the reason; "" when accepted
	}{
		{"token_urlsafe(32)", urlsafe, ""},
		{"token_hex(16)", "9f86d081884c7d659a2feaa0c55ad015", ""},
		{"longest", (urlsafe + strings.Repeat("9f86d081884c7d659a2feaa0c55ad015", 7))[:token.MaxSeedLen], ""},
		{"empty", "", "must be 32 to 256 characters"},
		{"one short", urlsafe[:token.MinSeedLen-1], "must be 32 to 256 characters"},
		{"one too long", strings.Repeat(urlsafe, 6)[:token.MaxSeedLen+1], "must be 32 to 256 characters"},
		{"outside the alphabet", "qH3kV9/xZ2+mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE", "URL-safe base64 alphabet"},
		{"non-ASCII", "qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRké", "URL-safe base64 alphabet"},
		{"32 identical", strings.Repeat("a", 32), "too predictable"},
		{"repeated pair", strings.Repeat("ab", 22), "too predictable"},
		{"words", "seed-seed-seed-seed-seed-seed-seed-seed", "too predictable"},
		{"a long repeated word", strings.Repeat("seed-", 51), "too predictable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := token.CheckSeed(tt.seed)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckSeed() = %v; want it accepted", err)
				}
				return
			}
			var se *token.SeedError
			if !errors.As(err, &se) {
				t.Fatalf("CheckSeed() = %v; want a *SeedError", err)
			}
			if !strings.Contains(se.Reason, tt.want) {
				t.Errorf("reason %q; want it to say %q", se.Reason, tt.want)
			}
			if len(tt.seed) >= 8 && strings.Contains(err.Error(), tt.seed[:8]) {
				t.Errorf("error %q repeats the seed", err)
			}
		})
	}
}
