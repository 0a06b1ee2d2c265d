package validindex

import (
	"runtime"
	"strings"
	"testing"
)

// TestRetainedChunks: a chunk compaction dropped counts in retainedBytes
// while a string handed out from it is alive, and no longer once that
// string is gone and the garbage collector ran.
func TestRetainedChunks(t *testing.T) {
	tab := newTable(0)
	tab.chunk = 4 << 10
	enc := []byte(strings.Repeat("x", 200))
	var held string
	// Fill the first chunk, then replace every record so that it is all
	// garbage and the next compaction drops it.
	for round := 0; round < 2; round++ {
		for i := 0; i < 16; i++ {
			h := [32]byte{byte(i), 1}
			old, _ := tab.put(&h, enc)
			if round == 1 && i == 0 {
				held = old // a string that points into the first chunk
			}
		}
	}
	tab.compact()
	if len(tab.dropped) == 0 {
		t.Fatal("compaction dropped no chunk; the test's records do not fill one")
	}
	runtime.GC()
	if got := tab.retainedBytes(); got == 0 {
		t.Errorf("retainedBytes = 0 while a string into a dropped chunk is alive")
	}
	runtime.KeepAlive(held)
	held = ""
	for i := 0; i < 3 && tab.retainedBytes() > 0; i++ {
		runtime.GC()
	}
	if got := tab.retainedBytes(); got != 0 {
		t.Errorf("retainedBytes = %d after the last string into the dropped chunk is gone", got)
	}
}
