package bbolt

import (
	"os"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped hands the pages of the file that a big scan (loading the
// validation index, verifying the audit log) read through bbolt's
// read-only memory map back to the kernel (madvise MADV_DONTNEED): they
// stay in the page cache, shared and reclaimable, but stop counting as
// this process's resident memory, and a later read faults them in again
// from the file. Called inside a read transaction, so bbolt cannot remap
// the file meanwhile. Best effort: an error changes nothing.
func releaseMapped(db *bolt.DB, path string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		return
	}
	// bbolt maps at least the file's length, so the range lies inside the
	// mapping.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(fi.Size()), syscall.MADV_DONTNEED)
}
