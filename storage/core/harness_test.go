package core_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/core"
	"tokenauthority/storage/etcd"
)

// engineCase opens stores of the core over one kind of engine.
type engineCase struct {
	name string
	// open returns a fresh engine with limits (zero: the engine's
	// defaults), closed when the test ends, and a function that opens
	// another on the same data (after the first is closed, as a restart
	// would).
	open func(t testing.TB, limits storage.EngineLimits) (storage.Engine, func() storage.Engine)
	// opts are the core options replicas on that engine use.
	opts core.Options
}

// engineCases are both engines: a bbolt file per store, and prefixes of
// one three-member etcd cluster started for the calling test.
func engineCases(t *testing.T) []engineCase {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	var n atomic.Int64
	return []engineCase{
		{name: "bbolt", open: func(t testing.TB, limits storage.EngineLimits) (storage.Engine, func() storage.Engine) {
			path := filepath.Join(t.TempDir(), "kv.db")
			open := func() storage.Engine {
				e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{Limits: limits})
				if err != nil {
					t.Fatalf("OpenEngine = %v", err)
				}
				t.Cleanup(func() { _ = e.Close() })
				return e
			}
			return open(), open
		}},
		{name: "etcd", open: func(t testing.TB, limits storage.EngineLimits) (storage.Engine, func() storage.Engine) {
			prefix := fmt.Sprintf("/core/%d/", n.Add(1))
			open := func() storage.Engine {
				e := etcd.NewEngine(cli, etcd.EngineOptions{Prefix: prefix, Limits: limits, Progress: 100 * time.Millisecond})
				t.Cleanup(func() { _ = e.Close() })
				return e
			}
			return open(), open
		}, opts: core.Options{MaxStaleness: 2 * time.Second, MissReads: 200, WriteTimeout: 30 * time.Second}},
	}
}

// openCore opens the core on e, closed when the test ends.
func openCore(t testing.TB, e storage.Engine, opts core.Options) *core.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := core.Open(ctx, e, opts)
	if err != nil {
		t.Fatalf("core.Open = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
