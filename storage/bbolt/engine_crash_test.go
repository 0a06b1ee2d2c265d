package bbolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tokenauthority/internal/teststack"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// engineCrashChildEnv, when set to a file path, turns
// TestEngineCrashKeepsCommitsAndFeed into the child that writes to it.
const engineCrashChildEnv = "TOKENAUTHORITY_ENGINE_CRASH_CHILD"

// TestEngineCrashKeepsCommitsAndFeed kills a process writing through the
// engine with SIGKILL, then checks that every acknowledged Update is in
// the file, that the counter every Update incremented matches the keys,
// and that replaying the change feed from revision 0 rebuilds exactly the
// data: the journal committed with the data, no more and no less.
func TestEngineCrashKeepsCommitsAndFeed(t *testing.T) {
	if teststack.AsChild(t, engineCrashChildEnv, engineCrashChild) {
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kv.db")
	const killAfter = 200
	var acked []string
	teststack.KillChild(t, "TestEngineCrashKeepsCommitsAndFeed", engineCrashChildEnv, path, func(line string) bool {
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			t.Logf("child: %s", line)
			return false
		}
		acked = append(acked, id)
		return len(acked) >= killAfter
	})
	if len(acked) < killAfter {
		t.Fatalf("child acknowledged only %d writes before exiting", len(acked))
	}

	e := openEngine(t, path)
	ctx := context.Background()
	data := map[string]string{}
	err := e.View(ctx, func(tx storage.ReadTx) error {
		return tx.Range(nil, nil, 0, func(k, v []byte) error { data[string(k)] = string(v); return nil })
	})
	if err != nil {
		t.Fatalf("View = %v", err)
	}
	for _, id := range acked {
		if data["k/"+id] != id {
			t.Errorf("acknowledged key k/%s lost", id)
		}
	}
	if n := strconv.Itoa(len(data) - 1); data["count"] != n {
		t.Errorf("count = %q, want %s (one per stored key)", data["count"], n)
	}
	rev, err := e.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision = %v", err)
	}
	feedCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := e.Changes(feedCtx, 0)
	if err != nil {
		t.Fatalf("Changes(0) = %v", err)
	}
	replayed := map[string]string{}
	for want := int64(1); want <= rev; want++ {
		b := <-ch
		if b.Err != nil || b.Revision != want {
			t.Fatalf("feed batch %+v, want revision %d", b, want)
		}
		for _, c := range b.Changes {
			replayed[string(c.Key)] = string(c.Value)
		}
	}
	if len(replayed) != len(data) {
		t.Errorf("feed replay has %d keys, file %d", len(replayed), len(data))
	}
	for k, v := range data {
		if replayed[k] != v {
			t.Errorf("key %s: file %q, feed replay %q", k, v, replayed[k])
		}
	}
	t.Logf("%d acknowledged updates, %d revisions survived SIGKILL", len(acked), rev)
}

// engineCrashChild runs read-modify-write Updates from several goroutines
// and prints each id once its Update returned.
func engineCrashChild(path string) {
	e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{JournalLength: 1 << 30})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(20 * time.Second)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				id := fmt.Sprintf("w%d-%06d", w, i)
				_, err := e.Update(context.Background(), func(tx storage.Tx) error {
					n := 0
					v, err := tx.Get([]byte("count"))
					if err == nil {
						n, err = strconv.Atoi(string(v))
					}
					if err != nil && !errors.Is(err, storage.ErrNotFound) {
						return err
					}
					return errors.Join(tx.Put([]byte("k/"+id), []byte(id)), tx.Put([]byte("count"), []byte(strconv.Itoa(n+1))))
				})
				if err != nil {
					fmt.Println("error:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println("ack " + id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
