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
