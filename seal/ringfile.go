package seal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"tokenauthority/secretfile"
)

// maxRingFile bounds what LoadRingFile reads: about 1,400 keys.
const maxRingFile = 64 << 10

// LoadRingFile reads a key ring file: one key a line, written
// "<id>:<key>", where id is a decimal key id from 1 up and key is the
// ParseKey form. Blank lines and lines starting with # are ignored. The
// file has the checks of LoadKey (regular, 0600 or stricter); a missing
// file is an error wrapping fs.ErrNotExist. Errors wrap ErrKeyFile and name
// the path and line, never key material.
func LoadRingFile(path string) (map[uint32][]byte, error) {
	data, err := readPrivate(path, maxRingFile)
	if err != nil {
		return nil, err
	}
	keys := map[uint32][]byte{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(why string, err error) error {
			if err != nil {
				return fmt.Errorf("%w: %s line %d: %s: %w", ErrKeyFile, path, i+1, why, err)
			}
			return fmt.Errorf("%w: %s line %d: %s", ErrKeyFile, path, i+1, why)
		}
		idText, keyText, ok := strings.Cut(line, ":")
		if !ok {
			return nil, bad(`want "<id>:<key>"`, nil)
		}
		id, err := strconv.ParseUint(idText, 10, 32)
		if err != nil || id == 0 || idText != strconv.FormatUint(id, 10) {
			return nil, bad("key id must be a decimal number from 1 to 4294967295 (0 is the key of the single key file)", nil)
		}
		if _, dup := keys[uint32(id)]; dup {
			return nil, bad(fmt.Sprintf("key id %d appears twice", id), nil)
		}
		key, err := ParseKey(keyText)
		if err != nil {
			return nil, bad(fmt.Sprintf("key %d", id), err)
		}
		keys[uint32(id)] = key
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeyFile, path, ErrEmptyRing)
	}
	return keys, nil
}

// WriteRingFile replaces the key ring file at path with keys (ids from 1
// up), atomically: a private temporary file in the same directory is
// written and synced, renamed over path, and the directory synced. A crash
// leaves either the old file or the new one, whole.
func WriteRingFile(path string, keys map[uint32][]byte) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: %s: %w", ErrKeyFile, path, ErrEmptyRing)
	}
	ids := make([]uint32, 0, len(keys))
	for id, key := range keys {
		if id == 0 {
			return fmt.Errorf("%w: %s: key id 0 belongs in the single key file", ErrKeyFile, path)
		}
		if len(key) != KeySize {
			return fmt.Errorf("%w: %s: key %d: %w", ErrKeyFile, path, id, ErrKeySize)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString("# tokenauthority master key ring: <id>:<base64 key>; the highest id seals.\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "%d:%s\n", id, FormatKey(keys[id]))
	}
	return replaceFile(path, []byte(b.String()))
}

// RemoveKeyFile deletes a single key file and makes the removal durable.
// A missing file is not an error.
func RemoveKeyFile(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if err := secretfile.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	return nil
}

// replaceFile writes data to path atomically with mode 0600.
func replaceFile(path string, data []byte) error {
	if err := secretfile.Replace(path, data); err != nil {
		return fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	return nil
}
