package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// readPrivate reads a regular file of at most limit bytes that grants no
// permission to group or others. Errors wrap ErrKeyFile (and fs.ErrNotExist
// for a missing file) and name the path, never the content.
func readPrivate(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s: not a regular file", ErrKeyFile, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s: mode %#o gives group or others access; want 0600 (chmod 600 %s)",
			ErrKeyFile, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes, not a key file", ErrKeyFile, path, limit)
	}
	return data, nil
}

// createKey publishes key at path atomically: it writes and syncs a private
// temporary file in the same directory, then hard-links it to path, which
// fails with fs.ErrExist if path appeared meanwhile. Unlike writing path in
// place, a crash can never leave a partial key file behind.
func createKey(path string, key []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	// On failure before the link, the temporary file must not linger; after
	// a successful link and removal this finds nothing.
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod makes the mode explicit rather
	// than an accident of the standard library.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(FormatKey(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: write %s: %w", ErrKeyFile, tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	// Drop the temporary name before the directory sync, so that the sync
	// also makes its removal durable.
	if err := os.Remove(tmp.Name()); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	return nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
