package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// KeySize is the key length in bytes: AES-256.
const KeySize = 32

// Overhead is how many bytes Seal adds to a plaintext: the 12-byte nonce
// and the 16-byte tag.
const Overhead = 12 + 16

// Box seals and opens values under one key. It holds only the expanded key,
// so it is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for key, which must be KeySize bytes (ErrKeySize
// otherwise). The Box does not keep a reference to key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext and authenticates it together with aad. The result
// is a fresh random 12-byte nonce followed by the ciphertext and tag, and is
// Overhead bytes longer than plaintext. aad is not stored: Open needs the
// same aad again.
func (b *Box) Seal(plaintext, aad []byte) ([]byte, error) {
	return b.aead.Seal(nil, nil, plaintext, aad), nil
}

// Open authenticates and decrypts a value made by Seal with the same key
// and aad. Any mismatch returns ErrOpen and no plaintext.
func (b *Box) Open(sealed, aad []byte) ([]byte, error) {
	plaintext, err := b.aead.Open(nil, nil, sealed, aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}
