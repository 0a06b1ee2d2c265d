package token

import (
	"hash/crc32"
	"testing"
)

// TestChecksumIsCRC32 pins checksum to crc32.ChecksumIEEE: secrets issued
// before it existed must keep passing Check.
func TestChecksumIsCRC32(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "a", "tka_", "tka_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "\x00\xff\x80"} {
		if got, want := checksum(body), crc32.ChecksumIEEE([]byte(body)); got != want {
			t.Errorf("checksum(%q) = %08x, want %08x", body, got, want)
		}
	}
}

// TestAllBase62 holds the eight-bytes-at-a-time alphabet test to the
// byte-by-byte one: every byte value at every position of strings of the
// lengths Check uses and around a word's size.
func TestAllBase62(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 7, 8, 9, 16, 45} {
		base := []byte(alphabet + alphabet)[:n]
		for pos := range n {
			for c := range 256 {
				s := append([]byte{}, base...)
				s[pos] = byte(c)
				want := true
				for _, b := range s {
					want = want && inAlphabet(b)
				}
				if got := allBase62(string(s)); got != want {
					t.Fatalf("allBase62(%q) = %v, want %v", s, got, want)
				}
			}
		}
	}
}
