package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Role says what a credential may do.
type Role string

const (
	// RoleAdmin may call every method.
	RoleAdmin Role = "admin"
	// RoleValidator may validate tokens and check access, nothing else.
	RoleValidator Role = "validator"
)

// Allows reports whether a credential of role r may call a method that needs
// role need.
func (r Role) Allows(need Role) bool {
	return r == RoleAdmin || r == need
}

// Prefix starts every generated service credential, so that a leaked one is
// easy to tell apart from a workspace token.
const Prefix = "tkas_"

// ErrInvalidFile is returned when a credentials file cannot be used.
var ErrInvalidFile = errors.New("invalid credentials file")

// Entry is one known credential.
type Entry struct {
	// Name identifies the caller in logs, e.g. "zoo-service".
	Name string
	// Role says what the caller may do.
	Role Role
}

// Set is an immutable collection of credentials, keyed by the SHA-256 of the
// secret. It is safe for concurrent use.
type Set struct {
	byHash map[[sha256.Size]byte]Entry
}

// Lookup returns the entry of a presented secret.
func (s *Set) Lookup(secret string) (Entry, bool) {
	if s == nil || secret == "" {
		return Entry{}, false
	}
	e, ok := s.byHash[hashOf(secret)]
	return e, ok
}

// Len returns how many credentials the set holds.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.byHash)
}

// NewSecret returns a fresh credential: Prefix followed by 256 random bits in
// URL-safe base64.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate credential: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashHex returns the lowercase hex SHA-256 of a secret, the form the
// credentials file stores.
func HashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// fileFormat is the JSON layout of a credentials file.
type fileFormat struct {
	Credentials []struct {
		Name   string `json:"name"`
		Role   Role   `json:"role"`
		SHA256 string `json:"sha256"`
	} `json:"credentials"`
}

// Load reads a credentials file:
//
//	{"credentials": [{"name": "zoo-service", "role": "validator", "sha256": "<hex of SHA-256 of the secret>"}]}
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	return Parse(data)
}

// Parse reads the content of a credentials file (see Load).
func Parse(data []byte) (*Set, error) {
	var f fileFormat
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFile, err)
	}
	s := &Set{byHash: make(map[[sha256.Size]byte]Entry, len(f.Credentials))}
	for i, c := range f.Credentials {
		if c.Name == "" {
			return nil, fmt.Errorf("%w: entry %d has no name", ErrInvalidFile, i)
		}
		if c.Role != RoleAdmin && c.Role != RoleValidator {
			return nil, fmt.Errorf("%w: entry %q has role %q; want %q or %q", ErrInvalidFile, c.Name, c.Role, RoleAdmin, RoleValidator)
		}
		raw, err := hex.DecodeString(c.SHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("%w: entry %q: sha256 must be 64 hex digits", ErrInvalidFile, c.Name)
		}
		var h [sha256.Size]byte
		copy(h[:], raw)
		if _, dup := s.byHash[h]; dup {
			return nil, fmt.Errorf("%w: entry %q repeats the hash of another entry", ErrInvalidFile, c.Name)
		}
		s.byHash[h] = Entry{Name: c.Name, Role: c.Role}
	}
	if len(s.byHash) == 0 {
		return nil, fmt.Errorf("%w: no credentials", ErrInvalidFile)
	}
	return s, nil
}

func hashOf(secret string) [sha256.Size]byte { return sha256.Sum256([]byte(secret)) }
