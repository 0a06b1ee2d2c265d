package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
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
	byHash     map[[sha256.Size]byte]Entry
	byIdentity map[string]Entry
	n          int // entries of the file; one may be in both maps
}

// Lookup returns the entry of a presented secret.
func (s *Set) Lookup(secret string) (Entry, bool) {
	if s == nil || secret == "" {
		return Entry{}, false
	}
	e, ok := s.byHash[hashOf(secret)]
	return e, ok
}

// LookupIdentity returns the entry bound to one of the identities of a
// verified client certificate (see tlsconfig.Identities). A certificate
// whose identities match two different entries is refused: which role it
// should get is not clear, and guessing would be failing open.
func (s *Set) LookupIdentity(ids []string) (Entry, bool) {
	if s == nil {
		return Entry{}, false
	}
	var found Entry
	var ok bool
	for _, id := range ids {
		e, hit := s.byIdentity[id]
		if !hit {
			continue
		}
		if ok && e != found {
			return Entry{}, false
		}
		found, ok = e, true
	}
	return found, ok
}

// Len returns how many credentials the set holds.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
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
		Name           string `json:"name"`
		Role           Role   `json:"role"`
		SHA256         string `json:"sha256"`
		ClientIdentity string `json:"client_identity"`
	} `json:"credentials"`
}

// Load reads a credentials file:
//
//	{"credentials": [
//	  {"name": "zoo-service", "role": "validator", "sha256": "<hex of SHA-256 of the secret>"},
//	  {"name": "gateway", "role": "validator", "client_identity": "spiffe://hub.example/gateway"},
//	  {"name": "web", "role": "admin", "client_identity": "web.hub.internal"}
//	]}
//
// An entry needs a sha256, a client_identity, or both. A client_identity is
// a SPIFFE ID ("spiffe://trust-domain/path") matched against a client
// certificate's URI SANs, or a DNS name matched, ignoring case, against its
// DNS SANs; a caller presenting such a verified certificate over mutual TLS
// needs no bearer credential.
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
	// A second value means the file is not what its author thinks it is
	// (two concatenated files, a stray edit): refuse rather than use half.
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the credentials object", ErrInvalidFile)
	}
	s := &Set{byHash: make(map[[sha256.Size]byte]Entry, len(f.Credentials)), byIdentity: map[string]Entry{}}
	for i, c := range f.Credentials {
		if c.Name == "" {
			return nil, fmt.Errorf("%w: entry %d has no name", ErrInvalidFile, i)
		}
		if c.Role != RoleAdmin && c.Role != RoleValidator {
			return nil, fmt.Errorf("%w: entry %q has role %q; want %q or %q", ErrInvalidFile, c.Name, c.Role, RoleAdmin, RoleValidator)
		}
		if c.SHA256 == "" && c.ClientIdentity == "" {
			return nil, fmt.Errorf("%w: entry %q has neither a sha256 nor a client_identity", ErrInvalidFile, c.Name)
		}
		e := Entry{Name: c.Name, Role: c.Role}
		s.n++
		if c.SHA256 != "" {
			raw, err := hex.DecodeString(c.SHA256)
			if err != nil || len(raw) != sha256.Size {
				return nil, fmt.Errorf("%w: entry %q: sha256 must be 64 hex digits", ErrInvalidFile, c.Name)
			}
			var h [sha256.Size]byte
			copy(h[:], raw)
			if _, dup := s.byHash[h]; dup {
				return nil, fmt.Errorf("%w: entry %q repeats the hash of another entry", ErrInvalidFile, c.Name)
			}
			s.byHash[h] = e
		}
		if c.ClientIdentity != "" {
			id, err := parseIdentity(c.ClientIdentity)
			if err != nil {
				return nil, fmt.Errorf("%w: entry %q: %v", ErrInvalidFile, c.Name, err)
			}
			if _, dup := s.byIdentity[id]; dup {
				return nil, fmt.Errorf("%w: entry %q repeats the client_identity of another entry", ErrInvalidFile, c.Name)
			}
			s.byIdentity[id] = e
		}
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("%w: no credentials", ErrInvalidFile)
	}
	return s, nil
}

// hashOf is the SHA-256 of a secret. Every authenticated request hashes
// its credential, and converting a string longer than 32 bytes to a []byte
// costs a heap allocation; an array on the stack does not.
func hashOf(secret string) [sha256.Size]byte {
	var buf [128]byte
	if len(secret) <= len(buf) {
		n := copy(buf[:], secret)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(secret))
}

// parseIdentity checks a client_identity and returns it in the form
// tlsconfig.Identities produces: a SPIFFE ID as written, a DNS name in lower
// case.
func parseIdentity(id string) (string, error) {
	if strings.Contains(id, "://") {
		u, err := url.Parse(id)
		if err != nil || u.Scheme != "spiffe" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" {
			return "", fmt.Errorf("client_identity %q: want a SPIFFE ID like spiffe://trust-domain/path or a DNS name", id)
		}
		return u.String(), nil
	}
	name := strings.ToLower(id)
	if len(name) > 253 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return "", fmt.Errorf("client_identity %q is not a DNS name", id)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "", fmt.Errorf("client_identity %q is not a DNS name", id)
		}
	}
	return name, nil
}
