package bbolt

import (
	"slices"
	"testing"

	"tokenauthority/storage"
)

// TestTailTrim: the feed's memory keeps its bound, never trims past a
// commit still to report, and ignores one reported below its floor.
func TestTailTrim(t *testing.T) {
	t.Parallel()
	batch := func(rev int64) storage.ChangeBatch {
		return storage.ChangeBatch{Revision: rev, Changes: []storage.Change{{Key: []byte("k"), Value: []byte("v")}}}
	}
	tests := []struct {
		name string
		// reported is the order in which commits report.
		reported  []int64
		wantRevs  []int64
		wantFloor int64
	}{
		{"in order, by length", []int64{6, 7, 8, 9}, []int64{8, 9}, 7},
		{"a gap holds the trim", []int64{7, 8, 9}, []int64{7, 8, 9}, 5},
		{"the late one fills the gap", []int64{7, 8, 6}, []int64{7, 8}, 6},
		{"below the floor", []int64{4, 5, 6}, []int64{6}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Engine{journal: 2, journalBytes: 1 << 20, wake: make(chan struct{}), floor: 5}
			for _, rev := range tt.reported {
				e.committed(batch(rev))
			}
			var got []int64
			for _, b := range e.tail {
				got = append(got, b.Revision)
			}
			if !slices.Equal(got, tt.wantRevs) || e.floor != tt.wantFloor || e.tailBytes != int64(2*len(got)) {
				t.Errorf("tail %v, floor %d, bytes %d; want %v, %d, %d", got, e.floor, e.tailBytes, tt.wantRevs, tt.wantFloor, 2*len(tt.wantRevs))
			}
		})
	}
}
