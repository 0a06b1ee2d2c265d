package token_test

import (
	"crypto/rand"
	"testing"
	"time"

	"tokenauthority/token"
)

// BenchmarkReadRandom is the baseline for New: the crypto/rand read that
// New cannot avoid.
func BenchmarkReadRandom(b *testing.B) {
	var buf [64]byte
	for b.Loop() {
		rand.Read(buf[:])
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := token.New(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	s := newSecret(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := token.Check(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckMalformed(b *testing.B) {
	s := "tka_" + "x"
	b.ReportAllocs()
	for b.Loop() {
		if err := token.Check(s); err == nil {
			b.Fatal("Check accepted a malformed secret")
		}
	}
}

func BenchmarkHash(b *testing.B) {
	s := newSecret(b)
	b.ReportAllocs()
	for b.Loop() {
		token.Hash(s)
	}
}

func BenchmarkNewID(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		if _, err := token.NewID(now); err != nil {
			b.Fatal(err)
		}
	}
}
