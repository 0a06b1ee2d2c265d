package validindex

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unsafe"
	"weak"
)

// table maps secret hashes to token encodings. A lookup is one random read
// of the slot array (8 bytes a slot) and one of the token's record, whose
// first cache lines are requested at once; a Go map waits on three reads in
// a row (docs/benchmarks.md, "validindex").
//
// slots is open addressing with linear probing. A slot is 0 when empty,
// else the upper 32 bits of the secret hash's first 8 bytes (the tag),
// which also give the slot's home (tag × len(slots) ÷ 2³², so slots can be
// rehashed from the tags alone), and a reference to the record: a chunk
// number (1–1023) and the record's offset in 8-byte units. Deletes shift
// the following slots back, so no tombstones lengthen the probes.
//
// Records live in append-only chunks: the 32-byte secret hash, the length
// of the encoding (4 bytes, little-endian), the encoding. A record is
// never written again once a string has been made over it, so the strings
// lookups hand out stay valid. A replaced or deleted record's bytes count
// as garbage in their chunk; a full chunk that is more garbage than live
// is compacted (its live records are copied to the current chunk and the
// chunk is dropped), and its memory is freed by the garbage collector once
// no string points into it.
type table struct {
	slots  []uint64
	live   int     // records in slots
	chunks []chunk // by number; chunks[0] is never used
	free   []int   // numbers of dropped chunks, for reuse
	cur    int     // number of the chunk being appended to; 0: none yet
	chunk  int     // bytes of a chunk: chunkSize, smaller in tests
	// dropped are the chunks compaction dropped, tracked weakly: a string
	// handed out from one keeps it alive, and retainedBytes counts it
	// until the garbage collector frees it.
	dropped []droppedChunk
}

// droppedChunk is a chunk compaction dropped, by a weak pointer to its
// first byte.
type droppedChunk struct {
	first weak.Pointer[byte]
	size  int
}

// chunk is one allocation of records.
type chunk struct {
	mem  []byte // len: bytes used
	live int    // bytes of live records in mem
}

const (
	chunkSize   = 32 << 20 // bytes of one chunk, at most 2^offsetBits × 8
	offsetBits  = 22       // in 8-byte units: 32 MiB
	chunkBits   = 10       // up to 1023 chunks: 32 GiB of records
	recordHead  = 32 + 4   // secret hash and length
	maxLoad     = 0.8      // live ÷ len(slots) that makes the slots grow
	growTo      = 0.5      // live ÷ len(slots) after growing
	minSlots    = 64       // the fewest slots a table has
	maxChunkNum = 1<<chunkBits - 1
)

// newTable returns a table with room for n records before it grows.
func newTable(n int) *table {
	t := &table{chunks: make([]chunk, 1, 8), chunk: chunkSize}
	t.resize(max(minSlots, int(float64(n)/growTo)))
	return t
}

func tagOf(h *[32]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) >> 32 }

// home is the first slot a tag probes.
func (t *table) home(tag uint64) int {
	hi, _ := bits.Mul64(tag<<32, uint64(len(t.slots)))
	return int(hi)
}

func (t *table) next(i int) int {
	if i++; i == len(t.slots) {
		return 0
	}
	return i
}

// at returns the record a slot refers to: its memory from the secret hash
// on, and the encoding's length.
func (t *table) at(s uint64) (rec unsafe.Pointer, n int) {
	c := &t.chunks[s>>offsetBits&maxChunkNum]
	off := int(s&(1<<offsetBits-1)) * 8
	rec = unsafe.Add(unsafe.Pointer(unsafe.SliceData(c.mem)), off)
	return rec, int(binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(rec, 32)), 4)))
}

// find returns the slot index holding h, or -1.
func (t *table) find(h *[32]byte) int {
	tag := tagOf(h)
	for i := t.home(tag); ; i = t.next(i) {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if s>>32 != tag {
			continue
		}
		rec, _ := t.at(s)
		if *(*[32]byte)(rec) == *h {
			return i
		}
	}
}

// get returns the encoding stored under h. The record's first four cache
// lines are all asked for before the first one is read, so that they
// arrive together rather than one after the other as decoding reaches
// them; seen is what those loads read, for the caller to keep, so that
// they are not optimised away.
func (t *table) get(h *[32]byte) (enc string, seen byte, ok bool) {
	tag := tagOf(h)
	i := t.home(tag)
	for s := t.slots[i]; s != 0; i, s = t.following(i) {
		if s>>32 != tag {
			continue
		}
		c := &t.chunks[s>>offsetBits&maxChunkNum]
		off := int(s&(1<<offsetBits-1)) * 8
		rec := unsafe.Add(unsafe.Pointer(unsafe.SliceData(c.mem)), off)
		if cap(c.mem)-off >= 256 {
			// Inside the chunk's allocation, if past the record's end.
			seen = *(*byte)(unsafe.Add(rec, 64)) ^ *(*byte)(unsafe.Add(rec, 128)) ^ *(*byte)(unsafe.Add(rec, 192))
		}
		if *(*[32]byte)(rec) == *h {
			n := int(binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(rec, 32)), 4)))
			return unsafe.String((*byte)(unsafe.Add(rec, recordHead)), n), seen, true
		}
	}
	return "", 0, false
}

// following returns the slot after i, and what it holds.
func (t *table) following(i int) (int, uint64) {
	i = t.next(i)
	return i, t.slots[i]
}

// put stores enc under h, replacing what was there, and returns the
// encoding it replaced (valid until the next compact).
func (t *table) put(h *[32]byte, enc []byte) (old string, replaced bool) {
	if i := t.find(h); i >= 0 {
		old = t.record(t.slots[i])
		t.release(t.slots[i])
		t.slots[i] = tagOf(h)<<32 | t.add(h, enc)
		return old, true
	}
	if float64(t.live+1) > maxLoad*float64(len(t.slots)) {
		t.resize(int(float64(t.live+1) / growTo))
	}
	t.insert(tagOf(h)<<32 | t.add(h, enc))
	t.live++
	return "", false
}

// record returns the encoding a slot refers to.
func (t *table) record(s uint64) string {
	rec, n := t.at(s)
	return unsafe.String((*byte)(unsafe.Add(rec, recordHead)), n)
}

// insert places a slot value in the first empty slot from its home.
func (t *table) insert(s uint64) {
	i := t.home(s >> 32)
	for t.slots[i] != 0 {
		i = t.next(i)
	}
	t.slots[i] = s
}

// delete removes h, and returns the encoding it held (valid until the
// next compact) and whether it was there.
func (t *table) delete(h *[32]byte) (old string, ok bool) {
	i := t.find(h)
	if i < 0 {
		return "", false
	}
	old = t.record(t.slots[i])
	t.release(t.slots[i])
	t.live--
	// Shift back every following slot of the run that may sit at i.
	for j := t.next(i); t.slots[j] != 0; j = t.next(j) {
		home := t.home(t.slots[j] >> 32)
		// The slot at j may move to i when i lies cyclically between its
		// home and j (so probing from home still reaches it).
		if (i < j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			t.slots[j] = 0
			i = j
		}
	}
	t.slots[i] = 0
	return old, true
}

// resize rebuilds the slots with room for n, from the tags alone.
func (t *table) resize(n int) {
	old := t.slots
	t.slots = make([]uint64, max(n, minSlots))
	adviseHuge(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.slots))), len(t.slots)*8))
	for _, s := range old {
		if s != 0 {
			t.insert(s)
		}
	}
}

// add appends a record to the current chunk (a new one when it is full)
// and returns its reference.
func (t *table) add(h *[32]byte, enc []byte) uint64 {
	size := recordHead + len(enc)
	need := (size + 7) &^ 7
	c := &t.chunks[t.cur]
	if t.cur == 0 || cap(c.mem)-len(c.mem) < need {
		t.cur = t.newChunk(max(t.chunk, need))
		c = &t.chunks[t.cur]
	}
	off := len(c.mem)
	c.mem = append(c.mem, h[:]...)
	c.mem = binary.LittleEndian.AppendUint32(c.mem, uint32(len(enc)))
	c.mem = append(c.mem, enc...)
	c.mem = c.mem[:off+need]
	c.live += need
	return uint64(t.cur)<<offsetBits | uint64(off/8)
}

// newChunk allocates a chunk of at least size bytes and returns its number.
func (t *table) newChunk(size int) int {
	mem := make([]byte, 0, size)
	adviseHuge(mem[:cap(mem)])
	if n := len(t.free); n > 0 {
		num := t.free[n-1]
		t.free = t.free[:n-1]
		t.chunks[num] = chunk{mem: mem}
		return num
	}
	if len(t.chunks) > maxChunkNum {
		// 32 GiB of token records: far beyond the memory of any machine this
		// runs on; the index cannot go on.
		panic("validindex: token records exceed 32 GiB")
	}
	t.chunks = append(t.chunks, chunk{mem: mem})
	return len(t.chunks) - 1
}

// release counts a slot's record as garbage.
func (t *table) release(s uint64) {
	_, n := t.at(s)
	t.chunks[s>>offsetBits&maxChunkNum].live -= (recordHead + n + 7) &^ 7
}

// compact moves the live records out of every full chunk that is more
// garbage than live, and drops those chunks. It scans the slots once.
func (t *table) compact() {
	var from map[int]bool
	for num := 1; num < len(t.chunks); num++ {
		c := &t.chunks[num]
		if num != t.cur && c.mem != nil && c.live*2 < len(c.mem) {
			if from == nil {
				from = map[int]bool{}
			}
			from[num] = true
		}
	}
	if from == nil {
		return
	}
	for i, s := range t.slots {
		if s == 0 || !from[int(s>>offsetBits&maxChunkNum)] {
			continue
		}
		rec, n := t.at(s)
		h := (*[32]byte)(rec)
		enc := unsafe.Slice((*byte)(unsafe.Add(rec, recordHead)), n)
		t.slots[i] = s&^(1<<32-1) | t.add(h, enc)
	}
	t.dropped = slices.DeleteFunc(t.dropped, func(d droppedChunk) bool { return d.first.Value() == nil })
	for num := range from {
		if mem := t.chunks[num].mem; cap(mem) > 0 {
			t.dropped = append(t.dropped, droppedChunk{first: weak.Make(&mem[:1][0]), size: cap(mem)})
		}
		t.chunks[num] = chunk{}
		t.free = append(t.free, num)
	}
}

// retainedBytes is the memory of dropped chunks that something still
// references, so that the garbage collector could not free it yet.
func (t *table) retainedBytes() int64 {
	var n int64
	for _, d := range t.dropped {
		if d.first.Value() != nil {
			n += int64(d.size)
		}
	}
	return n
}

// each calls f with every record's encoding.
func (t *table) each(f func(enc string)) {
	for _, s := range t.slots {
		if s != 0 {
			rec, n := t.at(s)
			f(unsafe.String((*byte)(unsafe.Add(rec, recordHead)), n))
		}
	}
}
