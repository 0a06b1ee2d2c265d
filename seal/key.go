package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"tokenauthority/secretfile"
)

// maxKeyFile bounds what LoadOrCreateKey reads: a key file is 45 bytes, and
// a path pointing at something large by mistake must not be slurped.
const maxKeyFile = 1024

// ParseKey decodes a key written as standard base64 of KeySize bytes, with
// a trailing newline allowed: the key file format, and the form for a key
// given by flag or environment variable. It returns ErrKeyEncoding or
// ErrKeySize, never text of the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	key, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, ErrKeyEncoding
	}
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	return key, nil
}

// FormatKey encodes key as ParseKey reads it, without a newline.
func FormatKey(key []byte) string {
	return base64.StdEncoding.EncodeToString(key)
}

// LoadOrCreateKey returns the key stored at path. If no file exists there,
// it creates one holding a fresh random key, readable and writable by the
// owner only, and durable (file and directory synced) before returning, so
// that no value is ever sealed under a key that a crash could lose. The
// directory must exist.
//
// It refuses, with an error wrapping ErrKeyFile, a file that grants any
// permission to group or others, one that is not a regular file, and one
// that does not hold a valid key. Errors name the path, never key material.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("%w: %s: read random: %w", ErrKeyFile, path, err)
	}
	switch err := createKey(path, key); {
	case errors.Is(err, fs.ErrExist):
		// Another process created the key first; use its key, so both
		// seal under the same one.
		return loadKey(path)
	case err != nil:
		return nil, err
	}
	return key, nil
}

// LoadKey returns the key stored at path, with the checks of
// LoadOrCreateKey, but never creates one: a missing file is an error
// wrapping fs.ErrNotExist (and ErrKeyFile), so that the caller can decide
// whether a new key is safe.
func LoadKey(path string) ([]byte, error) { return loadKey(path) }

// loadKey reads and checks an existing key file. A missing file is reported
// as an error wrapping fs.ErrNotExist (and ErrKeyFile).
func loadKey(path string) ([]byte, error) {
	data, err := readPrivate(path, maxKeyFile)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeyFile, path, err)
	}
	return key, nil
}

// readPrivate reads a secret file of at most limit bytes through secretfile
// (refused when group or others may access it). Errors wrap ErrKeyFile (and
// fs.ErrNotExist for a missing file) and name the path, never the content.
func readPrivate(path string, limit int64) ([]byte, error) {
	data, err := secretfile.Read(path, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	return data, nil
}

// createKey publishes key at path atomically (see secretfile.Create); it
// fails with fs.ErrExist if path appeared meanwhile.
func createKey(path string, key []byte) error {
	if err := secretfile.CreateBytes(path, []byte(FormatKey(key)+"\n")); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	return nil
}
