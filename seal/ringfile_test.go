package seal_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/seal"
)

func TestRingFileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "master.keys")
	keys := map[uint32][]byte{1: newKey(t), 2: newKey(t), 10: newKey(t)}
	if err := seal.WriteRingFile(path, keys); err != nil {
		t.Fatalf("WriteRingFile() error = %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Mode(), fs.FileMode(0o600); got != want {
		t.Errorf("ring file mode = %v, want %v", got, want)
	}
	got, err := seal.LoadRingFile(path)
	if err != nil {
		t.Fatalf("LoadRingFile() error = %v", err)
	}
	if len(got) != len(keys) {
		t.Fatalf("LoadRingFile() has %d keys, want %d", len(got), len(keys))
	}
	for id, key := range keys {
		if !bytes.Equal(got[id], key) {
			t.Errorf("key %d differs after the round trip", id)
		}
	}
	// Replacing leaves no temporary file behind.
	delete(keys, 1)
	if err := seal.WriteRingFile(path, keys); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the ring file", len(entries))
	}
	if got, err := seal.LoadRingFile(path); err != nil || len(got) != 2 || got[1] != nil {
		t.Errorf("LoadRingFile() after removing key 1 = %d keys, %v", len(got), err)
	}
}

// TestRingFileFormat reads a file written by hand, as documented.
func TestRingFileFormat(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	text := fmt.Sprintf("# comment\n\n1:%s\r\n2:%s", seal.FormatKey(k1), seal.FormatKey(k2))
	path := filepath.Join(t.TempDir(), "master.keys")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := seal.LoadRingFile(path)
	if err != nil {
		t.Fatalf("LoadRingFile() error = %v", err)
	}
	if !bytes.Equal(got[1], k1) || !bytes.Equal(got[2], k2) || len(got) != 2 {
		t.Error("LoadRingFile() did not return the keys of the file")
	}
}

func TestRingFileRefuses(t *testing.T) {
	t.Parallel()
	key := seal.FormatKey(bytes.Repeat([]byte{0x5a}, seal.KeySize))
	short := seal.FormatKey(bytes.Repeat([]byte{0x5a}, seal.KeySize-1))
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		also    error
		line    string
	}{
		{name: "group-readable", content: "1:" + key + "\n", mode: 0o640},
		{name: "empty", content: "", mode: 0o600, also: seal.ErrEmptyRing},
		{name: "comments only", content: "# nothing\n", mode: 0o600, also: seal.ErrEmptyRing},
		{name: "no colon", content: "1 " + key + "\n", mode: 0o600, line: "line 1"},
		{name: "id 0", content: "0:" + key + "\n", mode: 0o600, line: "line 1"},
		{name: "leading zero", content: "01:" + key + "\n", mode: 0o600, line: "line 1"},
		{name: "negative id", content: "-1:" + key + "\n", mode: 0o600, line: "line 1"},
		{name: "id too large", content: "4294967296:" + key + "\n", mode: 0o600, line: "line 1"},
		{name: "duplicate id", content: "1:" + key + "\n2:" + key + "\n1:" + key + "\n", mode: 0o600, line: "line 3"},
		{name: "short key", content: "1:" + key + "\n2:" + short + "\n", mode: 0o600, also: seal.ErrKeySize, line: "line 2"},
		{name: "not base64", content: "1:" + key + "!\n", mode: 0o600, also: seal.ErrKeyEncoding, line: "line 1"},
		{name: "large", content: strings.Repeat("#", 70<<10), mode: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "master.keys")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			keys, err := seal.LoadRingFile(path)
			if !errors.Is(err, seal.ErrKeyFile) {
				t.Fatalf("LoadRingFile() error = %v, want ErrKeyFile", err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("LoadRingFile() error = %v, want it to wrap %v", err, tt.also)
			}
			if keys != nil {
				t.Error("LoadRingFile() returned keys along with the error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.line) {
				t.Errorf("LoadRingFile() error = %q, want it to name the file and %q", err, tt.line)
			}
			if strings.Contains(err.Error(), key[:8]) || strings.Contains(err.Error(), short[:8]) {
				t.Errorf("LoadRingFile() error = %q contains key material", err)
			}
		})
	}
}

func TestWriteRingFileRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys map[uint32][]byte
		also error
	}{
		{name: "empty", keys: map[uint32][]byte{}, also: seal.ErrEmptyRing},
		{name: "key 0", keys: map[uint32][]byte{0: newKey(t)}},
		{name: "short key", keys: map[uint32][]byte{1: make([]byte, 31)}, also: seal.ErrKeySize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "master.keys")
			err := seal.WriteRingFile(path, tt.keys)
			if !errors.Is(err, seal.ErrKeyFile) || (tt.also != nil && !errors.Is(err, tt.also)) {
				t.Errorf("WriteRingFile() error = %v, want ErrKeyFile and %v", err, tt.also)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("WriteRingFile() refused but wrote %s: %v", path, err)
			}
		})
	}
}
