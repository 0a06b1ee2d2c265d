package secretfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrExposed is returned by Read for a file that grants group or others any
// access.
var ErrExposed = errors.New("file is accessible to group or others")

// ErrTooLarge is returned by Read for a file larger than the limit asked for.
var ErrTooLarge = errors.New("file is larger than expected")

// ErrNotRegular is returned by Read for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Create writes a new file at path holding what write writes, with mode
// 0600. The file appears complete or not at all, and is durable (file and
// directory synced) when Create returns. If path already exists, Create
// fails with an error wrapping fs.ErrExist and leaves it untouched. The
// directory must exist.
func Create(path string, write func(w io.Writer) error) error {
	return place(path, write, func(tmp string) error {
		// A hard link, unlike rename, fails when path exists: two processes
		// racing to create the same secret both end up with the winner's.
		if err := os.Link(tmp, path); err != nil {
			return err
		}
		// Drop the temporary name before syncing the directory, so that the
		// sync makes the removal durable too.
		return os.Remove(tmp)
	})
}

// Replace writes data to path with mode 0600, replacing any file there. A
// reader sees the old content or the new, never a mix, and the new content
// is durable (file and directory synced) when Replace returns.
func Replace(path string, data []byte) error {
	return place(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, func(tmp string) error { return os.Rename(tmp, path) })
}

// place writes a synced 0600 temporary file beside path, lets install put
// it in place, and syncs the directory.
func place(path string, write func(w io.Writer) error, install func(tmp string) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	// Until install succeeds the temporary file must not linger; after it,
	// this removes nothing.
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod makes it a decision rather than
	// an accident of the standard library.
	err = tmp.Chmod(0o600)
	if err == nil {
		err = write(tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := install(tmp.Name()); err != nil {
		return err
	}
	return SyncDir(dir)
}

// CreateBytes is Create for content already in memory.
func CreateBytes(path string, data []byte) error {
	return Create(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Read returns the content of the secret file at path after checking that
// it is a regular file, that group and others have no access to it, and
// that it holds at most limit bytes. A missing file gives an error wrapping
// fs.ErrNotExist. Errors name the path, never the content.
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s: mode %#o: %w; want 0600 (chmod 600 %s)", path, perm, ErrExposed, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", path, ErrTooLarge, limit)
	}
	return data, nil
}

// SyncDir makes changes to the entries of dir (a created, renamed or removed
// file) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
