package seal_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tokenauthority/seal"
)

func TestLoadOrCreateKeyCreatesAndReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.key")

	created, err := seal.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKey() on a missing file error = %v", err)
	}
	if got, want := len(created), seal.KeySize; got != want {
		t.Fatalf("len(key) = %d, want %d", got, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Mode(), fs.FileMode(0o600); got != want {
		t.Errorf("key file mode = %v, want %v", got, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), base64.StdEncoding.EncodeToString(created)+"\n"; got != want {
		t.Errorf("key file holds %d bytes, want base64 of the key and a newline", len(got))
	}

	reloaded, err := seal.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKey() on the created file error = %v", err)
	}
	if !bytes.Equal(reloaded, created) {
		t.Error("LoadOrCreateKey() reloaded a different key than it created")
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key file", names)
	}
}

func TestLoadOrCreateKeyDistinctKeys(t *testing.T) {
	t.Parallel()
	a, err := seal.LoadOrCreateKey(filepath.Join(t.TempDir(), "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := seal.LoadOrCreateKey(filepath.Join(t.TempDir(), "seal.key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two fresh key files hold the same key")
	}
}

// TestLoadOrCreateKeyConcurrent: processes starting together must all end
// up with the one key that was published, or values sealed by one would not
// open in another.
func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "seal.key")
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = seal.LoadOrCreateKey(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreateKey() #%d error = %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("LoadOrCreateKey() #%d returned a different key than #0", i)
		}
	}
}

func TestLoadOrCreateKeyExisting(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, seal.KeySize)
	path := filepath.Join(t.TempDir(), "seal.key")
	if err := os.WriteFile(path, []byte(seal.FormatKey(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := seal.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKey() error = %v", err)
	}
	if !bytes.Equal(got, key) {
		t.Error("LoadOrCreateKey() did not return the key in the file")
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	t.Parallel()
	valid := seal.FormatKey(bytes.Repeat([]byte{0x5a}, seal.KeySize)) + "\n"
	short := seal.FormatKey(bytes.Repeat([]byte{0x5a}, seal.KeySize-1)) + "\n"
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		also    error
	}{
		{name: "world-readable", content: valid, mode: 0o644},
		{name: "group-readable", content: valid, mode: 0o640},
		{name: "other-readable only", content: valid, mode: 0o604},
		{name: "group-writable", content: valid, mode: 0o620},
		{name: "garbage", content: "not a key at all\n", mode: 0o600, also: seal.ErrKeyEncoding},
		{name: "empty", content: "", mode: 0o600, also: seal.ErrKeySize},
		{name: "short key", content: short, mode: 0o600, also: seal.ErrKeySize},
		{name: "two keys", content: valid + valid, mode: 0o600},
		{name: "large", content: strings.Repeat("A", 4096), mode: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "seal.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			// WriteFile's mode is filtered by the umask; set it exactly.
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			key, err := seal.LoadOrCreateKey(path)
			if !errors.Is(err, seal.ErrKeyFile) {
				t.Fatalf("LoadOrCreateKey() error = %v, want ErrKeyFile", err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("LoadOrCreateKey() error = %v, want it to wrap %v", err, tt.also)
			}
			if key != nil {
				t.Error("LoadOrCreateKey() returned a key along with the error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("LoadOrCreateKey() error = %q, want it to name the file", err)
			}
			if c := strings.TrimSpace(tt.content); len(c) >= 8 && strings.Contains(err.Error(), c[:8]) {
				t.Errorf("LoadOrCreateKey() error = %q contains file content", err)
			}
			data, err := os.ReadFile(path)
			if err != nil || string(data) != tt.content {
				t.Error("LoadOrCreateKey() changed a file it refused")
			}
		})
	}
}

func TestLoadOrCreateKeyNotAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		also error
	}{
		{name: "directory", path: dir},
		{name: "missing directory", path: filepath.Join(dir, "absent", "seal.key"), also: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := seal.LoadOrCreateKey(tt.path)
			if !errors.Is(err, seal.ErrKeyFile) {
				t.Fatalf("LoadOrCreateKey() error = %v, want ErrKeyFile", err)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("LoadOrCreateKey() error = %v, want it to wrap %v", err, tt.also)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	enc := base64.StdEncoding.EncodeToString(key)
	tests := []struct {
		name    string
		s       string
		want    []byte
		wantErr error
	}{
		{name: "plain", s: enc, want: key},
		{name: "trailing newline", s: enc + "\n", want: key},
		{name: "trailing CRLF", s: enc + "\r\n", want: key},
		{name: "empty", s: "", wantErr: seal.ErrKeySize},
		{name: "not base64", s: "this is not base64!", wantErr: seal.ErrKeyEncoding},
		{name: "URL alphabet", s: base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), wantErr: seal.ErrKeyEncoding},
		{name: "no padding", s: strings.TrimRight(enc, "="), wantErr: seal.ErrKeyEncoding},
		{name: "hex", s: "3031323334353637383961626364656630313233343536373839616263646566", wantErr: seal.ErrKeySize},
		{name: "leading space", s: " " + enc, wantErr: seal.ErrKeyEncoding},
		{name: "16 bytes", s: base64.StdEncoding.EncodeToString(key[:16]), wantErr: seal.ErrKeySize},
		{name: "33 bytes", s: base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 0)), wantErr: seal.ErrKeySize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := seal.ParseKey(tt.s)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseKey() error = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("ParseKey() = %x, want %x", got, tt.want)
			}
			if err != nil && len(tt.s) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(tt.s)[:8]) {
				t.Errorf("ParseKey() error = %q contains the input", err)
			}
		})
	}
}

func TestFormatKeyRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	got, err := seal.ParseKey(seal.FormatKey(key))
	if err != nil {
		t.Fatalf("ParseKey(FormatKey()) error = %v", err)
	}
	if !bytes.Equal(got, key) {
		t.Error("ParseKey(FormatKey(key)) != key")
	}
}

// TestLoadKeyNeverCreates: LoadKey reads an existing key like
// LoadOrCreateKey, and reports a missing file as fs.ErrNotExist without
// creating one.
func TestLoadKeyNeverCreates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.key")
	if _, err := seal.LoadKey(path); !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, seal.ErrKeyFile) {
		t.Fatalf("LoadKey(missing) = %v; want fs.ErrNotExist and ErrKeyFile", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadKey created %s: %v", path, err)
	}
	want, err := seal.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal.LoadKey(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("LoadKey(existing) = %x, %v; want the created key", got, err)
	}
}
