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
// and that revisions and the change feed go on from the last commit.
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
	// Every acknowledged update took a revision of its own, kept with it.
	rev, err := e.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision = %v", err)
	}
	if rev < int64(len(acked)) {
		t.Errorf("Revision = %d after %d acknowledged updates", rev, len(acked))
	}
	// The feed starts at the revision the file was opened at: earlier
	// ones are compacted, and the next commit follows without a gap.
	feedCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := e.Changes(feedCtx, rev-1); !errors.Is(err, storage.ErrCompacted) {
		t.Errorf("Changes(%d) after the crash = %v, want ErrCompacted", rev-1, err)
	}
	ch, err := e.Changes(feedCtx, rev)
	if err != nil {
		t.Fatalf("Changes(%d) = %v", rev, err)
	}
	next, err := e.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte("after"), []byte("crash")) })
	if err != nil || next != rev+1 {
		t.Fatalf("Update after the crash = revision %d, %v; want %d", next, err, rev+1)
	}
	if b := <-ch; b.Err != nil || b.Revision != rev+1 || len(b.Changes) != 1 || string(b.Changes[0].Key) != "after" {
		t.Errorf("feed after the crash delivered %+v, want the put of after at revision %d", b, rev+1)
	}
	t.Logf("%d acknowledged updates, %d revisions survived SIGKILL", len(acked), rev)
}

// engineCrashChild runs read-modify-write Updates from several goroutines
// and prints each id once its Update returned.
func engineCrashChild(path string) {
	e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{})
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
