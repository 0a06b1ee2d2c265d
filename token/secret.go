package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unsafe"
)

const (
	// Prefix starts every secret, so that people and scanners recognise it.
	Prefix = "tka_"

	// Length is the length of every secret: the prefix, the random part and
	// the checksum.
	Length = len(Prefix) + randomLen + checksumLen

	// Pattern is a regular expression (RE2 syntax) that matches secrets in
	// running text, for leak scanners. A match still needs Check to rule
	// out strings that merely look like a token.
	Pattern = `\btka_[0-9A-Za-z]{49}\b`
)

const (
	// randomLen characters of a 62-letter alphabet carry
	// 43*log2(62) = 256.03 bits, as much as a 256-bit key.
	randomLen = 43

	// checksumLen base62 characters hold any CRC32 value (62^6 > 2^32).
	checksumLen = 6

	// bodyLen is the prefix and the random part: what the checksum covers.
	bodyLen = len(Prefix) + randomLen

	// alphabet is base62 in ASCII order. Its index is the digit value.
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

	// acceptBelow is the largest multiple of len(alphabet) that fits in a
	// byte. Random bytes at or above it are discarded so that b%62 is
	// uniform (rejection sampling, no modulo bias).
	acceptBelow = 256 / len(alphabet) * len(alphabet)
)

// New returns a fresh secret with 256 bits of entropy from crypto/rand.
func New() (string, error) {
	var out [Length]byte
	copy(out[:], Prefix)
	// With 248 of 256 byte values accepted, 64 random bytes yield the 43
	// characters on the first read except with negligible probability.
	var buf [64]byte
	n := len(Prefix)
	for n < bodyLen {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("token: read random: %w", err)
		}
		for _, b := range buf {
			if int(b) >= acceptBelow {
				continue
			}
			out[n] = alphabet[int(b)%len(alphabet)]
			n++
			if n == bodyLen {
				break
			}
		}
	}
	putChecksum(out[bodyLen:], checksum(string(out[:bodyLen])))
	return string(out[:]), nil
}

// Check reports whether secret has the shape and checksum of a token of this
// authority, without consulting storage. It returns ErrMalformed or
// ErrChecksum; the error never contains the secret.
func Check(secret string) error {
	if len(secret) != Length || secret[:len(Prefix)] != Prefix {
		return ErrMalformed
	}
	if !allBase62(secret[len(Prefix):]) {
		return ErrMalformed
	}
	var want [checksumLen]byte
	putChecksum(want[:], checksum(secret[:bodyLen]))
	if string(want[:]) != secret[bodyLen:] {
		return ErrChecksum
	}
	return nil
}

// Hash returns the SHA-256 of the whole secret, the key under which a token
// is stored and looked up. A 256-bit random secret needs no salt or slow
// hash: it cannot be guessed, only leaked.
func Hash(secret string) [32]byte {
	// A string converted to []byte in place needs a heap copy once it is
	// longer than 32 bytes; an array on the stack does not.
	var buf [Length]byte
	if len(secret) <= len(buf) {
		n := copy(buf[:], secret)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(secret))
}

// Mask returns a form of secret that is safe to show in lists and logs: the
// prefix, "..." and the last four characters, e.g. "tka_...x9Qz". The last
// four characters belong to the checksum, so a mask shows none of the random
// part. A string that is not Length long masks to Prefix + "..." alone, so
// that masking a short value never shows most of it.
func Mask(secret string) string {
	if len(secret) != Length {
		return Prefix + "..."
	}
	return Prefix + "..." + secret[Length-4:]
}

// putChecksum writes sum in base62, most significant digit first, padded
// with '0' to fill dst.
func putChecksum(dst []byte, sum uint32) {
	v := uint64(sum)
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
}

// inAlphabetTable says which bytes are base62 digits: one load per
// character on the validation path instead of three range tests.
var inAlphabetTable = func() (t [256]bool) {
	for i := range len(alphabet) {
		t[alphabet[i]] = true
	}
	return t
}()

func inAlphabet(c byte) bool { return inAlphabetTable[c] }

// allBase62 reports whether every byte of s is a base62 digit, eight bytes
// at a time: a byte below 0x80 is at least c when (b|0x80) - c keeps its
// high bit, and no byte borrows from the next because every c here is
// below 0x80.
func allBase62(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if x&highs != 0 {
			return false
		}
		h := x | highs
		digit := (h - '0'*ones) &^ (h - ('9'+1)*ones)
		upper := (h - 'A'*ones) &^ (h - ('Z'+1)*ones)
		lower := (h - 'a'*ones) &^ (h - ('z'+1)*ones)
		if (digit|upper|lower)&highs != highs {
			return false
		}
	}
	for ; i < len(s); i++ {
		if !inAlphabet(s[i]) {
			return false
		}
	}
	return true
}

// checksum is the CRC-32 (IEEE) of body. crc32.ChecksumIEEE reads the
// string's own bytes (it never writes them): converting the secret to a
// []byte would cost a heap allocation on every validation, and computing
// the CRC byte by byte here costs more than the SHA-256 after it.
func checksum(body string) uint32 {
	return crc32.ChecksumIEEE(unsafe.Slice(unsafe.StringData(body), len(body)))
}
