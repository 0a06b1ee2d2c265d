package etcd_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/etcd"
	"tokenauthority/storage/storagetest"
)

// TestConformance runs the storage conformance suite on a three-member
// cluster, each test on its own key prefix.
func TestConformance(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	var n atomic.Int64
	storagetest.RunTests(t, func(t testing.TB) storage.Backend {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := etcd.OpenClient(ctx, cli, etcd.Options{Prefix: fmt.Sprintf("/conformance/%d/", n.Add(1)),
			// The suite's concurrent writers all append to one audit
			// chain; on a loaded machine their retries outlast the
			// default bound, which is for a lost quorum.
			WriteTimeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("OpenClient = %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
