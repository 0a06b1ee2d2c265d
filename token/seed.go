package token

import (
	"fmt"
	"math"
)

// Limits of a seed, the secret the SDK's `token create` picks its token up
// with.
const (
	MinSeedLen = 32
	MaxSeedLen = 256
	// minSeedBits is the least estimated entropy of a seed, and
	// minSeedBitsChar the least per character.
	minSeedBits     = 80
	minSeedBitsChar = 2.5
)

// SeedError says why CheckSeed refused a seed. Reason completes "seed: "
// and never repeats the seed.
type SeedError struct {
	Reason string
}

func (e *SeedError) Error() string { return "seed: " + e.Reason }

// CheckSeed is the rule for the seed the SDK's `token create` sends: what
// Python's secrets.token_urlsafe(32) makes (43 characters) or a hex string
// of at least 16 bytes. A seed is the only secret guarding the pick-up of a
// token, so it must be long, from the URL-safe base64 alphabet, and not
// guessable: seedBits must reach minSeedBits, and minSeedBitsChar per
// character so that repeating a short word many times does not pass.
// Random hex passes with room to spare (docs/benchmarks.md, "Seed
// entropy"); 16 identical characters estimate at 0. A refusal is a
// *SeedError.
func CheckSeed(seed string) error {
	if len(seed) < MinSeedLen || len(seed) > MaxSeedLen {
		return seedErr("must be %d to %d characters, such as secrets.token_urlsafe(32)", MinSeedLen, MaxSeedLen)
	}
	for i := 0; i < len(seed); i++ {
		c := seed[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return seedErr("must use only the URL-safe base64 alphabet [A-Za-z0-9_-]")
		}
	}
	bits := seedBits(seed)
	if bits < minSeedBits || bits/float64(len(seed)) < minSeedBitsChar {
		return seedErr("is too predictable (about %.0f bits; at least %d needed): use a random seed such as secrets.token_urlsafe(32)", bits, minSeedBits)
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

func seedErr(format string, args ...any) error {
	return &SeedError{Reason: fmt.Sprintf(format, args...)}
}
