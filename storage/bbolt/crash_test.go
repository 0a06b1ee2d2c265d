package bbolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/storage/bbolt"
)

// crashChildEnv, when set to a file path, turns TestCrashKeepsAcknowledgedWrites
// into the child that writes to that file until it is killed.
const crashChildEnv = "TOKENAUTHORITY_STORAGE_CRASH_CHILD"

// TestCrashKeepsAcknowledgedWrites kills a writing process with SIGKILL and
// checks that every write it acknowledged is in the file, and that each
// change and its audit event survived together: no event without its
// change, no change without its event, and an intact chain.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if teststack.AsChild(t, crashChildEnv, crashChild) {
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	// Kill after a few hundred acknowledgements, mid-stream, then read what
	// the child managed to acknowledge before dying: those count too.
	const killAfter = 300
	var acked []string
	teststack.KillChild(t, "TestCrashKeepsAcknowledgedWrites", crashChildEnv, path, func(line string) bool {
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			return false
		}
		acked = append(acked, id)
		return len(acked) == killAfter
	})
	if len(acked) < killAfter {
		t.Fatalf("child acknowledged only %d writes before exiting", len(acked))
	}

	s := openAt(t, path, bbolt.Options{})
	for _, id := range acked {
		if _, err := s.GetWorkspace(context.Background(), id); err != nil {
			t.Errorf("acknowledged workspace %s lost: %v", id, err)
		}
	}
	events, _, err := s.ListAuditEvents(context.Background(), audit.Filter{}, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, ev := range events {
		audited[ev.GetTarget()] = true
		if _, err := s.GetWorkspace(context.Background(), ev.GetTarget()); err != nil {
			t.Errorf("event %d names workspace %s, which was not stored: %v", ev.GetSequence(), ev.GetTarget(), err)
		}
	}
	for _, id := range acked {
		if !audited[id] {
			t.Errorf("acknowledged workspace %s has no audit event", id)
		}
	}
	if res, err := s.VerifyAudit(context.Background()); err != nil || !res.OK {
		t.Errorf("VerifyAudit after SIGKILL = %+v, %v; want an intact chain", res, err)
	}
	t.Logf("%d acknowledged writes and %d audit events survived SIGKILL", len(acked), len(events))
}

// crashChild writes workspaces from several goroutines, so commits are
// shared, and prints each id once its write is acknowledged. It stops by
// itself after a while in case the parent is gone.
func crashChild(path string) {
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(20 * time.Second)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				id := fmt.Sprintf("w%d-%06d", w, i)
				ctx, _ := audit.NewContext(context.Background(), &pb.AuditEvent{Action: "workspace.create", Target: id})
				if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: id}); err != nil {
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
