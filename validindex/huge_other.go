//go:build !linux

package validindex

// adviseHuge does nothing where madvise's huge page advice does not exist.
func adviseHuge([]byte) {}
