package token

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

const (
	// IDLength is the length of every token id: 128 bits in base32.
	IDLength = 26

	// idAlphabet is Crockford's base32 in lower case: digits and letters
	// without i, l, o and u, so ids read aloud or retyped are unambiguous.
	// It is in ASCII order, so ids compare like the numbers they encode.
	idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

	// maxIDMillis is the first Unix millisecond a 48-bit field cannot hold.
	maxIDMillis = 1 << 48
)

// NewID returns a public token id for a token created at now: 48 bits of
// Unix milliseconds followed by 80 random bits, as 26 lowercase base32
// characters (the ULID layout in lower case). Ids of tokens created in
// different milliseconds sort by creation time as plain strings; ids within
// one millisecond are in random order. An id is not secret and grants
// nothing.
func NewID(now time.Time) (string, error) {
	ms := now.UnixMilli()
	if ms < 0 || ms >= maxIDMillis {
		return "", ErrTimeRange
	}
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(ms)<<16)
	if _, err := rand.Read(raw[6:]); err != nil {
		return "", fmt.Errorf("token: read random: %w", err)
	}
	hi := binary.BigEndian.Uint64(raw[:8])
	lo := binary.BigEndian.Uint64(raw[8:])
	var out [IDLength]byte
	// 26 characters hold 130 bits; the first carries the top 3 bits of
	// the 128, preceded by two zero bits.
	for i := IDLength - 1; i >= 0; i-- {
		out[i] = idAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:]), nil
}

// ValidID reports whether id has the shape of a token id: 26 characters of
// the id alphabet, the first at most '7' so that it fits 128 bits. It checks
// shape only; whether such a token exists is for storage to say.
func ValidID(id string) bool {
	if len(id) != IDLength || id[0] > '7' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !inIDAlphabet(id[i]) {
			return false
		}
	}
	return true
}

func inIDAlphabet(c byte) bool {
	switch {
	case '0' <= c && c <= '9':
		return true
	case 'a' <= c && c <= 'z':
		return c != 'i' && c != 'l' && c != 'o' && c != 'u'
	}
	return false
}

// IDTime returns the creation time an id made by NewID carries, to the
// millisecond; false when id is not a token id.
func IDTime(id string) (time.Time, bool) {
	if !ValidID(id) {
		return time.Time{}, false
	}
	var hi, lo uint64
	for i := 0; i < IDLength; i++ {
		v := uint64(strings.IndexByte(idAlphabet, id[i]))
		hi = hi<<5 | lo>>59
		lo = lo<<5 | v
	}
	return time.UnixMilli(int64(hi >> 16)), true
}
