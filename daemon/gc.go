package daemon

import (
	"log/slog"
	"runtime/debug"
)

// gcHeadroom is the room the garbage collector should leave the heap
// beyond what is live, whatever the size of the validation index: enough
// for the garbage of many thousands of calls between collections.
const gcHeadroom = 64 << 20

// GCPercent returns the garbage collector's percent (GOGC) that leaves the
// heap about gcHeadroom of room beyond an index of indexBytes, between 20
// and the default 100. Go lets the heap grow by its percent of the whole
// live heap; a large store's validation index is most of that heap yet holds
// almost no pointers, so at the default the room it buys is memory the
// server does not need (docs/benchmarks.md, "daemon").
func GCPercent(indexBytes int64) int {
	if indexBytes <= gcHeadroom {
		return 100
	}
	return max(20, int(100*gcHeadroom/indexBytes))
}

// TuneGC sets the garbage collector's percent for the store's validation
// index (GCPercent), unless gogc (the GOGC environment variable) is set:
// then the operator has chosen. It is for the process that owns the
// daemon, since the setting is the whole process's.
func (d *Daemon) TuneGC(gogc string) {
	if gogc != "" {
		return
	}
	n := d.IndexBytes()
	if p := GCPercent(n); p < 100 {
		debug.SetGCPercent(p)
		d.log.Info("garbage collector paced to the validation index", slog.Int("gc_percent", p), slog.Int64("index_bytes", n))
	}
}

// IndexBytes is about how much memory the store's validation index takes
// (its record chunks, slots and cells); 0 for a store that does not say.
func (d *Daemon) IndexBytes() int64 {
	if sized, ok := d.store.(interface{ IndexBytes() int64 }); ok {
		return sized.IndexBytes()
	}
	return 0
}
