package bbolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/storage/bbolt"
)

func TestBackupRestore(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "alice")
	var snap bytes.Buffer
	n, err := s.Backup(t.Context(), &snap)
	if err != nil || n != int64(snap.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v; wrote %d bytes", n, err, snap.Len())
	}
	dir := t.TempDir()
	from := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(from, snap.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bbolt.VerifyFile(from); err != nil {
		t.Fatalf("VerifyFile(backup) = %v", err)
	}
	dst := filepath.Join(dir, "data", "tokenauthority.db")
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := bbolt.Restore(from, dst); err != nil {
		t.Fatalf("Restore = %v", err)
	}
	info, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("restored file mode = %#o; want 0600", perm)
	}
	if err := bbolt.Restore(from, dst); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Restore onto the same file = %v; want fs.ErrExist", err)
	}
	restored := openAt(t, dst, bbolt.Options{})
	got, err := restored.GetWorkspace(context.Background(), "acme")
	if err != nil || got.GetWorkspaceId() != "acme" {
		t.Errorf("GetWorkspace from the restored store = %v, %v", got, err)
	}
	if _, err := restored.GetMember(context.Background(), "acme", "alice"); err != nil {
		t.Errorf("GetMember from the restored store: %v", err)
	}
}

// TestRestoreRefusesBadFiles: garbage, a truncated snapshot and a bbolt
// file of another application are refused, and nothing is written.
func TestRestoreRefusesBadFiles(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme")
	var snap bytes.Buffer
	if _, err := s.Backup(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := filepath.Join(dir, "other.db")
	if err := writeForeignBolt(other); err != nil {
		t.Fatal(err)
	}
	// Damage bbolt does not survive on its own: a freelist page whose
	// overflow count runs past the file (its check would loop over four
	// billion pages) and a root page that names another page id (bbolt
	// asserts by panicking).
	data := snap.Bytes()
	pageSize := int(binary.LittleEndian.Uint32(data[24:]))
	freelist := int(binary.LittleEndian.Uint64(data[48:]))
	root := int(binary.LittleEndian.Uint64(data[32:]))
	badFreelist := bytes.Clone(data)
	binary.LittleEndian.PutUint32(badFreelist[freelist*pageSize+12:], 0xffffffff)
	badRoot := bytes.Clone(data)
	binary.LittleEndian.PutUint64(badRoot[root*pageSize:], 4242)
	tests := map[string]string{
		"garbage":       write("garbage", bytes.Repeat([]byte("not a store "), 1000)),
		"truncated":     write("truncated", data[:len(data)/2]),
		"empty":         write("empty", nil),
		"foreign":       other,
		"freelist runs": write("freelist", badFreelist),
		"root page id":  write("root", badRoot),
	}
	for name, from := range tests {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "tokenauthority.db")
			if err := bbolt.Restore(from, dst); !errors.Is(err, bbolt.ErrNotStore) {
				t.Errorf("Restore(%s) = %v; want ErrNotStore", name, err)
			}
			if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Restore(%s) left %s behind (stat: %v)", name, dst, err)
			}
		})
	}
}

// writeForeignBolt writes a valid bbolt file that is not a store.
func writeForeignBolt(path string) error {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("things"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	return errors.Join(err, db.Close())
}
