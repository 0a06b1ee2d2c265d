package token_test

import (
	"errors"
	"testing"

	"tokenauthority/token"
)

// FuzzCheck feeds Check arbitrary strings: it must never panic, must answer
// only nil, ErrMalformed or ErrChecksum, and must accept only strings that
// Mask and Pattern treat as tokens.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"", token.Prefix, goldenZeros, goldenMixed,
		goldenMixed[:token.Length-1], goldenMixed + "x",
		"tkb_" + goldenMixed[4:], goldenMixed[:30] + "\xff" + goldenMixed[31:],
		goldenMixed[:47] + goldenZeros[47:],
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := token.Check(s)
		switch {
		case err == nil:
			if len(s) != token.Length {
				t.Fatalf("Check accepted a string of length %d", len(s))
			}
			if got, want := token.Mask(s), token.Prefix+"..."+s[token.Length-4:]; got != want {
				t.Fatalf("Mask() = %q, want %q", got, want)
			}
		case errors.Is(err, token.ErrMalformed), errors.Is(err, token.ErrChecksum):
		default:
			t.Fatalf("Check() = %v, want nil, ErrMalformed or ErrChecksum", err)
		}
	})
}
