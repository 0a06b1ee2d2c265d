package usage_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"tokenauthority/usage"
)

// BenchmarkSeen measures the cost validation pays per use, from 16
// goroutines per CPU over 1000 token ids, against the obvious alternative as
// the baseline: one map behind one mutex.
//
//	go test ./usage -run XXX -bench Seen
func BenchmarkSeen(b *testing.B) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "0123456789abcdefghij" + strconv.Itoa(100000+i)
	}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	b.Run("baseline=one-mutex-map", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]int64{}
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			i := 0
			for p.Next() {
				id, n := ids[i%len(ids)], at.UnixNano()
				mu.Lock()
				if n > m[id] {
					m[id] = n
				}
				mu.Unlock()
				i++
			}
		})
	})
	b.Run("Recorder", func(b *testing.B) {
		b.ReportAllocs()
		r := usage.New(nil, usage.Options{})
		b.SetParallelism(16)
		b.RunParallel(func(p *testing.PB) {
			i := 0
			for p.Next() {
				r.Seen(ids[i%len(ids)], at)
				i++
			}
		})
	})
}
