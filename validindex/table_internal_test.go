package validindex

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTableAgainstMap runs random puts, replacements and deletes against a
// table and a Go map side by side and checks, after every step, that both
// hold the same, that a string a lookup handed out earlier still reads what
// it did (records are never written again, compaction included), and that
// compaction keeps the garbage bounded. Chunks are small and many hashes
// share a tag or a home at the end of the slots, so that chunks fill, get
// compacted and reused, probe runs wrap around, and deletes shift slots
// back across the wrap.
func TestTableAgainstMap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		chunk int
		keys  int
		steps int
	}{
		{"small chunks", 4 << 10, 300, 20000},
		{"one record a chunk", 512, 50, 3000},
		{"default chunks", chunkSize, 2000, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, uint64(tc.keys)))
			tab := newTable(0)
			tab.chunk = tc.chunk
			keys := make([][32]byte, tc.keys)
			for i := range keys {
				keys[i] = sha256.Sum256(fmt.Appendf(nil, "key %d", i))
				switch i % 5 {
				case 0: // the same tag as key 0: one long run
					copy(keys[i][:8], keys[0][:8])
				case 1: // a home in the last slots: runs wrap around
					binary.LittleEndian.PutUint64(keys[i][:8], ^uint64(0)-uint64(i))
				}
			}
			model := map[[32]byte][]byte{}
			type seen struct {
				s    string
				want []byte
			}
			var kept []seen
			dropped := false // some chunk was compacted away
			for step := range tc.steps {
				k := keys[r.IntN(len(keys))]
				switch op := r.IntN(10); {
				case op < 6:
					v := make([]byte, r.IntN(600))
					for i := range v {
						v[i] = byte(r.Uint32())
					}
					if tc.chunk < chunkSize && r.IntN(50) == 0 {
						v = make([]byte, 3*tc.chunk/2+r.IntN(100)) // bigger than a chunk
					}
					prev, had := model[k]
					old, replaced := tab.put(&k, v)
					if replaced != had || old != string(prev) {
						t.Fatalf("step %d: put replaced %q, %v; want %q, %v", step, old, replaced, prev, had)
					}
					model[k] = v
				default:
					prev, had := model[k]
					if old, got := tab.delete(&k); got != had || old != string(prev) {
						t.Fatalf("step %d: delete = %q, %v; want %q, %v", step, old, got, prev, had)
					}
					delete(model, k)
				}
				if step%7 == 0 {
					tab.compact()
				}
				if tab.live != len(model) {
					t.Fatalf("step %d: live = %d, want %d", step, tab.live, len(model))
				}
				if len(tab.free) > 0 {
					dropped = true
				}
				if step%(tc.steps/200) != 0 && step != tc.steps-1 {
					continue
				}
				for i := range keys {
					k := &keys[i]
					got, _, ok := tab.get(k)
					want, has := model[*k]
					if ok != has || got != string(want) {
						t.Fatalf("step %d: get(key %d) = %d bytes, %v; want %d bytes, %v", step, i, len(got), ok, len(want), has)
					}
					if ok && len(kept) < 200 {
						kept = append(kept, seen{got, bytes.Clone(want)})
					}
				}
				for i, s := range kept {
					if s.s != string(s.want) {
						t.Fatalf("step %d: string %d handed out earlier changed", step, i)
					}
				}
				count := 0
				tab.each(func(string) { count++ })
				if count != len(model) {
					t.Fatalf("step %d: each visits %d records, want %d", step, count, len(model))
				}
				var used, live int
				for num := 1; num < len(tab.chunks); num++ {
					c := tab.chunks[num]
					if c.live < 0 || c.live > len(c.mem) {
						t.Fatalf("step %d: chunk %d has %d live bytes of %d", step, num, c.live, len(c.mem))
					}
					used += len(c.mem)
					live += c.live
				}
				// Compaction leaves at most the current chunk, and chunks at
				// least half live: used ≤ 2 × live + one chunk.
				if step%7 == 0 && used > 2*live+tc.chunk+(recordHead+600+7) {
					t.Fatalf("step %d: %d bytes of chunks hold %d live bytes", step, used, live)
				}
			}
			if tc.chunk < chunkSize && !dropped {
				t.Error("no chunk was ever compacted away: the test does not reach compaction")
			}
		})
	}
}

// TestTableGrows fills a table from empty past several resizes and checks
// every key, then deletes all and checks that none is left.
func TestTableGrows(t *testing.T) {
	t.Parallel()
	tab := newTable(0)
	const n = 20000
	keys := make([][32]byte, n)
	for i := range keys {
		keys[i] = sha256.Sum256(fmt.Appendf(nil, "%d", i))
		tab.put(&keys[i], fmt.Appendf(nil, "value %d", i))
	}
	if l := len(tab.slots); float64(n) > maxLoad*float64(l) {
		t.Fatalf("%d slots hold %d records, above the load limit", l, n)
	}
	for i := range keys {
		got, _, ok := tab.get(&keys[i])
		if !ok || got != fmt.Sprintf("value %d", i) {
			t.Fatalf("get(%d) = %q, %v", i, got, ok)
		}
	}
	for i := range keys {
		if _, ok := tab.delete(&keys[i]); !ok {
			t.Fatalf("delete(%d) found nothing", i)
		}
	}
	for i, s := range tab.slots {
		if s != 0 {
			t.Fatalf("slot %d still set after every key was deleted", i)
		}
	}
	missing := sha256.Sum256([]byte("never put"))
	_, deleted := tab.delete(&missing)
	if _, _, ok := tab.get(&missing); ok || deleted {
		t.Fatal("a key never put was found")
	}
}
