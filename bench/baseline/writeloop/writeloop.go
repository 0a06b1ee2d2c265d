// Package writeloop is the loop of the harness's write baselines
// (boltwrite, etcdtxn): writers that each write one thing at a time until
// a deadline, counted, and the report the harness reads.
//
// # How it can hurt you
//
// It stops at the first failed write, after the writes in flight end;
// those are counted only if they succeeded.
package writeloop

import (
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Run has writers goroutines call write until duration has passed or a
// write fails, and writes {"writes": N, "seconds": S} to out. write gets
// its writer's number and must be safe for concurrent calls.
func Run(out io.Writer, writers int, duration time.Duration, write func(writer int) error) error {
	var writes atomic.Int64
	var failed atomic.Pointer[error]
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for time.Now().Before(deadline) && failed.Load() == nil {
				if err := write(w); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				writes.Add(1)
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return *p
	}
	return json.NewEncoder(out).Encode(map[string]any{
		"writes":  writes.Load(),
		"seconds": time.Since(start).Seconds(),
	})
}
