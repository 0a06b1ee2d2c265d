package bbolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/secretfile"
)

// ErrNotStore means a file is not a complete store of this build's schema.
var ErrNotStore = errors.New("not a store of this schema")

// Backup writes the file as of one moment to w, from a read transaction:
// writes carry on, and each one acknowledged before Backup began is in it.
func (e *Engine) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := e.use(ctx, func() error {
		return e.db.View(func(tx *bolt.Tx) error {
			var err error
			n, err = tx.WriteTo(&ctxWriter{ctx: ctx, w: w})
			return err
		})
	})
	return n, err
}

// ctxWriter stops a snapshot whose requester went away.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// VerifyFile checks, read-only, that path passes bbolt's page check and has
// a layout Open reads: else ErrNotStore, never a crash or a hang.
func VerifyFile(path string) (err error) {
	if err := checkExtent(path); err != nil {
		return fmt.Errorf("%s: %w: %v", path, ErrNotStore, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%s: %w: %v", path, ErrNotStore, err)
	}
	defer db.Close()
	// bbolt panics on a page that is not what its parent says; the file is
	// only read, so recovering loses nothing.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%s: %w: %v", path, ErrNotStore, v)
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		// The page check first: it reports what a lookup would panic on.
		// Stopping early would block its goroutine, holding tx open.
		var problems []error
		for err := range tx.Check() {
			if len(problems) < 5 {
				problems = append(problems, err)
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s: %w: %w", path, ErrNotStore, errors.Join(problems...))
		}
		return checkLayout(tx, path)
	})
}

// Restore installs the snapshot at from, once VerifyFile passes, as the
// store file dst, in an existing directory. An existing dst is never
// overwritten (fs.ErrExist); after a crash dst is absent or whole.
func Restore(from, dst string) error {
	if err := VerifyFile(from); err != nil {
		return err
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("%s: %w: restore into an empty data directory", dst, os.ErrExist)
	}
	if err := secretfile.Create(dst, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	}); err != nil {
		return fmt.Errorf("restore to %s: %w", dst, err)
	}
	// The source may have changed while read: a bad copy is removed rather
	// than left for a server to open.
	if err := VerifyFile(dst); err != nil {
		_ = os.Remove(dst)
		_ = secretfile.SyncDir(filepath.Dir(dst))
		return err
	}
	return nil
}

// Offsets in bbolt's file as checkExtent reads it: two meta pages (at 0 and
// at one page size) and a page header's overflow count, little endian (the
// machine's order on every platform this is built for).
const (
	boltMagic        = 0xED0CDAED
	boltMetaMagicOff = 16
	boltPageSizeOff  = 24
	boltFreelistOff  = 48
	boltPgidOff      = 56
	boltOverflowOff  = 12
	boltNoFreelist   = ^uint64(0)
)

// checkExtent refuses a file whose meta pages point outside it. bbolt trusts
// them: a truncated file would crash the process with SIGBUS, and a corrupt
// freelist overflow count loop its check over billions of pages.
func checkExtent(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	var hdr [64]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	if binary.LittleEndian.Uint32(hdr[boltMetaMagicOff:]) != boltMagic {
		return errors.New("not a bbolt file")
	}
	pageSize := int64(binary.LittleEndian.Uint32(hdr[boltPageSizeOff:]))
	if pageSize < 512 || pageSize > 1<<20 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("page size %d is not plausible", pageSize)
	}
	need := int64(0)
	for _, off := range []int64{0, pageSize} {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return fmt.Errorf("read meta page: %w", err)
		}
		if binary.LittleEndian.Uint32(hdr[boltMetaMagicOff:]) != boltMagic {
			continue // a torn meta page; bbolt falls back to the other one
		}
		pgid := binary.LittleEndian.Uint64(hdr[boltPgidOff:])
		if pgid > uint64(size) {
			return fmt.Errorf("file is %d bytes, its meta page claims %d pages", size, pgid)
		}
		need = max(need, int64(pgid)*pageSize)
		if size < need {
			return fmt.Errorf("file is %d bytes, its meta pages need %d: truncated", size, need)
		}
		if fl := binary.LittleEndian.Uint64(hdr[boltFreelistOff:]); fl != boltNoFreelist {
			if fl >= pgid {
				return fmt.Errorf("freelist page %d is beyond the last page %d", fl, pgid)
			}
			var page [16]byte
			if _, err := f.ReadAt(page[:], int64(fl)*pageSize); err != nil {
				return fmt.Errorf("read freelist page: %w", err)
			}
			if end := fl + uint64(binary.LittleEndian.Uint32(page[boltOverflowOff:])); end >= pgid {
				return fmt.Errorf("freelist page %d runs to page %d, beyond the last page %d", fl, end, pgid)
			}
		}
	}
	return nil
}

// checkLayout accepts the engine's layout or schema 1 or 2 (Open migrates).
func checkLayout(tx *bolt.Tx, path string) error {
	if data := tx.Bucket(engineData); data != nil {
		if tx.Bucket(engineMeta) == nil {
			return fmt.Errorf("%s: %w: bucket %s missing", path, ErrNotStore, engineMeta)
		}
		if v := data.Get(kvSchemaVersion); string(v) != "3" {
			return fmt.Errorf("%s: %w: schema version %q, want 3", path, ErrNotStore, v)
		}
		return nil
	}
	meta := tx.Bucket(oldMeta)
	if meta == nil {
		return fmt.Errorf("%s: %w: no store buckets", path, ErrNotStore)
	}
	v := meta.Get(oldSchemaVersion)
	if len(v) != 8 || binary.BigEndian.Uint64(v) < 1 || binary.BigEndian.Uint64(v) > 2 {
		return fmt.Errorf("%s: %w: schema version %x, want 1 or 2 (migrated when opened) or 3", path, ErrNotStore, v)
	}
	return nil
}
