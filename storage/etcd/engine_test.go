package etcd_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/etcd"
	"tokenauthority/storage/storagetest"
)

// TestEngine holds the etcd engine to the engine contract on a
// three-member cluster, each engine on its own prefix.
func TestEngine(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	var n atomic.Int64
	storagetest.RunEngineTests(t, func(t testing.TB) storagetest.EngineUnderTest {
		prefix := fmt.Sprintf("/engine/%d/", n.Add(1))
		e := etcd.NewEngine(cli, etcd.EngineOptions{Prefix: prefix})
		t.Cleanup(func() { _ = e.Close() })
		return storagetest.EngineUnderTest{
			Engine: e,
			Reopen: func(t testing.TB) storage.Engine {
				if err := e.Close(); err != nil {
					t.Fatalf("Close = %v", err)
				}
				e2 := etcd.NewEngine(c.Client(t), etcd.EngineOptions{Prefix: prefix})
				t.Cleanup(func() { _ = e2.Close() })
				return e2
			},
			Compact: func(t testing.TB, rev int64) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
					t.Fatalf("Compact(%d) = %v", rev, err)
				}
			},
		}
	})
}
