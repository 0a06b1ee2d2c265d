package bbolt

import (
	"os"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped hands the file's mapped pages back to the kernel (madvise
// MADV_DONTNEED): they stay in the page cache but leave this process's
// resident memory. Call it inside a read transaction, so bbolt cannot remap
// the file meanwhile. Best effort: an error changes nothing.
func releaseMapped(db *bolt.DB, path string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		return
	}
	// bbolt maps at least the file's length.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(fi.Size()), syscall.MADV_DONTNEED)
}
