package validindex

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back the 2 MiB-aligned part of b with huge
// pages (madvise MADV_HUGEPAGE; where transparent huge pages are off it
// does nothing): a lookup reads two places at random in memory far larger
// than the TLB covers with 4 KiB pages (docs/benchmarks.md, "validindex").
// The advice is best effort: an error changes nothing but speed.
func adviseHuge(b []byte) {
	const huge = 2 << 20
	if len(b) < huge {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	from := (start + huge - 1) &^ (huge - 1)
	to := (start + uintptr(len(b))) &^ (huge - 1)
	if to <= from {
		return
	}
	_ = syscall.Madvise(b[from-start:to-start], syscall.MADV_HUGEPAGE)
}
