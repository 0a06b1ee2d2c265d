package token

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"testing"
)

// TestRandomHexSeedsPass draws seeds as secrets.token_hex(16) makes them,
// the shortest random seed the rule admits, and requires every one to
// pass. It logs the average and lowest estimates: docs/benchmarks.md ("Seed
// entropy") reports them.
func TestRandomHexSeedsPass(t *testing.T) {
	t.Parallel()
	const draws = 20000
	lowest, lowestChar, sum := math.Inf(1), math.Inf(1), 0.0
	var raw [16]byte
	for range draws {
		if _, err := rand.Read(raw[:]); err != nil {
			t.Fatal(err)
		}
		seed := hex.EncodeToString(raw[:])
		if err := CheckSeed(seed); err != nil {
			t.Fatalf("CheckSeed(random hex) = %v", err)
		}
		bits := seedBits(seed)
		sum += bits
		lowest = min(lowest, bits)
		lowestChar = min(lowestChar, bits/float64(len(seed)))
	}
	t.Logf("%d random 32-character hex seeds: %.1f bits on average, at least %.1f bits and %.2f bits per character (need %d and %.1f)",
		draws, sum/draws, lowest, lowestChar, minSeedBits, minSeedBitsChar)
}
