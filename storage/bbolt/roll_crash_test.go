package bbolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/internal/teststack"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// rollCrashChildEnv, when set to a file path, turns TestCrashDuringRolls
// into the child that rolls tokens in that file until it is killed.
const rollCrashChildEnv = "TOKENAUTHORITY_STORAGE_ROLL_CRASH_CHILD"

// rollChains is how many families the child rolls in parallel; chain c
// starts with token "c<c>-0000" and its n-th roll creates "c<c>-<n>".
const rollChains = 8

func chainID(c, n int) string { return fmt.Sprintf("c%d-%04d", c, n) }

// TestCrashDuringRolls kills a process in the middle of rolling tokens
// with SIGKILL and checks that every roll is all or nothing: for each
// token, either it and the link from its predecessor both exist or neither
// does, and every acknowledged roll is there.
func TestCrashDuringRolls(t *testing.T) {
	if teststack.AsChild(t, rollCrashChildEnv, rollCrashChild) {
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	// The first tokens are created here, before the child starts.
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addWorkspace(t, s, "acme", "ann")
	for c := range rollChains {
		addToken(t, s, "acme", "ann", chainID(c, 0))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	const killAfter = 200
	acked := map[string]bool{}
	var lines []string
	teststack.KillChild(t, "TestCrashDuringRolls", rollCrashChildEnv, path, func(line string) bool {
		lines = append(lines, line)
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			return false
		}
		acked[id] = true
		return len(acked) == killAfter
	})
	if len(acked) < killAfter {
		t.Fatalf("child acknowledged only %d rolls before exiting: %v", len(acked), lines)
	}

	s = openAt(t, path, bbolt.Options{})
	ctx := context.Background()
	total := 0
	for c := range rollChains {
		for n := 0; ; n++ {
			rec, err := s.GetToken(ctx, "acme", chainID(c, n))
			if errors.Is(err, storage.ErrNotFound) {
				if acked[chainID(c, n)] {
					t.Errorf("acknowledged roll into %s lost", chainID(c, n))
				}
				if n > 0 {
					prev, err := s.GetToken(ctx, "acme", chainID(c, n-1))
					if err != nil {
						t.Fatal(err)
					}
					if prev.Token.ReplacedBy != "" {
						t.Errorf("%s is replaced by %q, which does not exist", chainID(c, n-1), prev.Token.ReplacedBy)
					}
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			total++
			tok := rec.Token
			if n > 0 && tok.Replaces != chainID(c, n-1) {
				t.Errorf("%s replaces %q, want %s", tok.TokenId, tok.Replaces, chainID(c, n-1))
			}
			if n > 0 {
				prev, err := s.GetToken(ctx, "acme", chainID(c, n-1))
				if err != nil || prev.Token.ReplacedBy != tok.TokenId {
					t.Errorf("%s exists but its predecessor's replaced_by = %v, %v", tok.TokenId, prev.GetToken().GetReplacedBy(), err)
				}
			}
			if _, _, err := s.LookupToken(ctx, hashOf("secret-"+tok.TokenId)); err != nil {
				t.Errorf("%s exists but its secret index entry is missing: %v", tok.TokenId, err)
			}
		}
	}
	t.Logf("%d acknowledged rolls; %d tokens in %d chains, each roll whole after SIGKILL", len(acked), total, rollChains)
}

// rollCrashChild rolls each chain's newest token into the next, one
// goroutine per chain so commits are shared, and prints each new id once
// its roll is acknowledged.
func rollCrashChild(path string) {
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(20 * time.Second)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range rollChains {
		wg.Go(func() {
			for n := 1; time.Now().Before(deadline); n++ {
				next := tokenRec("acme", "ann", chainID(c, n))
				// Rolls move forward in time so each predecessor is live.
				next.Token.CreateTime = timestamppb.New(t0.Add(time.Duration(n) * time.Millisecond))
				_, _, err := s.RollToken(context.Background(), storage.Roll{OldID: chainID(c, n-1), Next: next, Grace: time.Minute})
				if err != nil {
					fmt.Println("error:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println("ack " + chainID(c, n))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
