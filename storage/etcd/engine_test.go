package etcd_test

import (
	"context"
	"errors"
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

// TestEngineGivesUpWithErrConflict: a key read by the transaction changes
// before every commit, so with one attempt allowed the Update fails with
// ErrConflict and writes nothing; with two it lands on the rerun.
func TestEngineGivesUpWithErrConflict(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{Members: 1})
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name     string
		attempts int
		wantErr  error
		wantRuns int
	}{
		{"one attempt", 1, storage.ErrConflict, 1},
		{"two attempts", 2, nil, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("/conflict/%d/", i)
			e := etcd.NewEngine(cli, etcd.EngineOptions{Prefix: prefix, MaxAttempts: tt.attempts})
			t.Cleanup(func() { _ = e.Close() })
			runs := 0
			_, err := e.Update(ctx, func(tx storage.Tx) error {
				runs++
				if _, err := tx.Get([]byte("read")); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				if runs == 1 { // a concurrent writer, between the read and the commit
					if _, err := cli.Put(ctx, prefix+"read", "changed"); err != nil {
						return err
					}
				}
				return tx.Put([]byte("written"), []byte("yes"))
			})
			if !errors.Is(err, tt.wantErr) || runs != tt.wantRuns {
				t.Fatalf("Update = %v after %d runs, want %v after %d", err, runs, tt.wantErr, tt.wantRuns)
			}
			resp, err := cli.Get(ctx, prefix+"written")
			if err != nil {
				t.Fatalf("Get = %v", err)
			}
			if got, want := len(resp.Kvs), map[bool]int{true: 1, false: 0}[tt.wantErr == nil]; got != want {
				t.Errorf("%d written keys, want %d", got, want)
			}
		})
	}
}
