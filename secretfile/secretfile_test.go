package secretfile_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"tokenauthority/secretfile"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := secretfile.CreateBytes(path, []byte("one\n")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %#o; want 0600", perm)
	}
	got, err := secretfile.Read(path, 64)
	if err != nil || string(got) != "one\n" {
		t.Fatalf("Read = %q, %v; want %q", got, err, "one\n")
	}
	// A second Create must not replace the first file.
	if err := secretfile.CreateBytes(path, []byte("two\n")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create: %v; want fs.ErrExist", err)
	}
	if got, err := secretfile.Read(path, 64); err != nil || string(got) != "one\n" {
		t.Errorf("after second Create, Read = %q, %v; want the first content", got, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries; want only the secret (no temporary file left)", len(entries))
	}
}

// TestCreateFailedWrite: a write that fails leaves no file at all, so a
// partial secret can never be read back.
func TestCreateFailedWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	boom := errors.New("boom")
	err := secretfile.Create(path, func(w io.Writer) error {
		if _, err := w.Write([]byte("partial")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Create = %v; want the write's error", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("directory holds %v after a failed Create; want nothing", entries)
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, mode os.FileMode, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{"private", write("private", 0o600, "x"), nil},
		{"owner read only", write("ro", 0o400, "x"), nil},
		{"group readable", write("group", 0o640, "x"), secretfile.ErrExposed},
		{"world readable", write("world", 0o604, "x"), secretfile.ErrExposed},
		{"too large", write("large", 0o600, "0123456789"), secretfile.ErrTooLarge},
		{"directory", dir, secretfile.ErrNotRegular},
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secretfile.Read(tt.path, 8)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Read = %v; want %v", err, tt.wantErr)
			}
		})
	}
}
