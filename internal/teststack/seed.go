package teststack

import (
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// NewSeed makes a seed as the hub SDK's token create does:
// secrets.token_urlsafe(32), 43 characters.
func NewSeed(t testing.TB) string {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}
