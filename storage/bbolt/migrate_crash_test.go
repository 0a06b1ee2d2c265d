package bbolt_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/internal/teststack"
	"tokenauthority/storage/bbolt"
)

// migrateCrashChildEnv, when set to a file path, turns
// TestMigrateCrashLeavesOldOrNew into the child that migrates it.
const migrateCrashChildEnv = "TOKENAUTHORITY_MIGRATE_CRASH_CHILD"

// crashExtraTokens are raw records added to the fixture's tokens bucket so
// that a migration lasts long enough to be killed in the middle.
const crashExtraTokens = 20_000

// TestMigrateCrashLeavesOldOrNew kills a process migrating a big schema 2
// file with SIGKILL at points spread over the migration's duration: each
// time the file is either the old file, record for record, or the whole
// new layout, never a mix; and a later open completes the migration.
func TestMigrateCrashLeavesOldOrNew(t *testing.T) {
	if teststack.AsChild(t, migrateCrashChildEnv, migrateCrashChild) {
		return
	}
	t.Parallel()
	big := copyFixture(t)
	editRaw(t, big, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("tokens"))
		val := make([]byte, 160)
		for i := range crashExtraTokens {
			binary.BigEndian.PutUint64(val, uint64(i))
			if err := b.Put(fmt.Appendf(nil, "zz%024d", i), val); err != nil {
				return err
			}
		}
		return nil
	})
	old := rawBuckets(t, big)
	want := wantKV(t, old, fxAuditTimes())

	// How long a child takes to migrate, to spread the kills over it.
	probe := copyTo(t, big)
	var start time.Time
	var took time.Duration
	teststack.KillChild(t, "TestMigrateCrashLeavesOldOrNew", migrateCrashChildEnv, probe, func(line string) bool {
		switch line {
		case "start":
			start = time.Now()
		case "migrated":
			took = time.Since(start)
		default:
			t.Logf("child: %s", line)
		}
		return false
	})
	if took == 0 {
		t.Fatal("the child did not migrate the file")
	}
	if diff := diffRecords(want, migrate(t, probe)); diff != "" {
		t.Fatalf("the child's migration: %s", diff)
	}

	outcomes := map[string]int{}
	for i := range 6 {
		path := copyTo(t, big)
		delay := took * time.Duration(i) / 4 // up to past the end
		teststack.KillChild(t, "TestMigrateCrashLeavesOldOrNew", migrateCrashChildEnv, path, func(line string) bool {
			if line != "start" {
				t.Logf("child: %s", line)
				return false
			}
			time.Sleep(delay)
			return true
		})
		after := rawBuckets(t, path)
		kv, migrated := after["kv"]
		switch {
		case !migrated:
			for _, b := range append([]string{"meta"}, oldBuckets...) {
				if diff := diffRecords(old[b], after[b]); diff != "" {
					t.Fatalf("killed after %v: no bucket kv, and old bucket %s changed: %s", delay, b, diff)
				}
			}
			outcomes["old"]++
		default:
			if diff := diffRecords(want, kv); diff != "" {
				t.Fatalf("killed after %v: bucket kv is not the whole migration: %s", delay, diff)
			}
			for _, b := range oldBuckets {
				if _, ok := after[b]; ok {
					t.Fatalf("killed after %v: bucket kv and old bucket %s both exist", delay, b)
				}
			}
			outcomes["new"]++
		}
		if diff := diffRecords(want, migrate(t, path)); diff != "" {
			t.Fatalf("killed after %v: the next open: %s", delay, diff)
		}
	}
	t.Logf("migration of %d records takes %v; after SIGKILL: %v", len(want), took, outcomes)
	if outcomes["old"] == 0 {
		t.Errorf("no kill landed before the migration committed (%v): the test proved nothing about a torn migration", outcomes)
	}
}

// copyTo copies the file at from to a new temporary file.
func copyTo(t testing.TB, from string) string {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ta.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// migrateCrashChild migrates the file at path, announcing the start.
func migrateCrashChild(path string) {
	fmt.Println("start")
	e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	if err := e.Close(); err != nil {
		fmt.Println("close:", err)
		os.Exit(2)
	}
	fmt.Println("migrated")
	os.Exit(0)
}

// diffRecords names up to 5 keys where got differs from want, or returns
// "" when they hold the same records: cmp.Diff is too slow for this many.
func diffRecords(want, got map[string][]byte) string {
	var diffs []string
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			diffs = append(diffs, fmt.Sprintf("%q: want %x, got %x (present %v)", k, v, g, ok))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%q: unexpected", k))
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
	}
	return fmt.Sprint(diffs)[1 : len(fmt.Sprint(diffs))-1]
}
