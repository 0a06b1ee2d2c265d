package bbolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestCommitRollsBackOnlyTheFailingWrite drives one batch directly, so the
// writes are certain to share a transaction.
func TestCommitRollsBackOnlyTheFailingWrite(t *testing.T) {
	t.Parallel()
	var sizes []int
	s, err := Open(filepath.Join(t.TempDir(), "ta.db"), Options{OnCommit: func(n int) { sizes = append(sizes, n) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	errBoom := errors.New("boom")
	errNope := errors.New("nope")
	put := func(key string, fail error) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketWorkspaces).Put([]byte(key), []byte("v")); err != nil {
				return err
			}
			return fail
		}
	}
	batch := []*write{
		{fn: put("a", nil)},
		{fn: put("b", errBoom)}, // fails after writing: needs a rollback
		{fn: func(*bolt.Tx) error { return reject(errNope) }},
		{fn: put("c", nil)},
	}
	for _, w := range batch {
		w.done = make(chan error, 1)
	}
	s.commit(batch)

	tests := []struct {
		name string
		w    *write
		want error
	}{
		{"a", batch[0], nil},
		{"b", batch[1], errBoom},
		{"rejected", batch[2], errNope},
		{"c", batch[3], nil},
	}
	for _, tt := range tests {
		got := <-tt.w.done
		if got != tt.want {
			t.Errorf("write %s answered %v, want %v", tt.name, got, tt.want)
		}
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWorkspaces)
		for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
			if got := b.Get([]byte(key)) != nil; got != want {
				t.Errorf("key %s stored = %v, want %v", key, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 1 || sizes[0] != 3 {
		t.Errorf("commits carried %v writes, want [3]", sizes)
	}
}

// TestCompositeKeysKeepWorkspacesApart checks that the separator sorts a
// workspace's children before any longer workspace id sharing its prefix.
func TestCompositeKeysKeepWorkspacesApart(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "ta.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMembers)
		for _, k := range [][]byte{compositeKey("a", "zz"), compositeKey("a-b", "m"), compositeKey("a", "b"), compositeKey("ab", "c")} {
			if err := b.Put(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.view(ctx, func(tx *bolt.Tx) error {
		for _, k := range keysWithPrefix(tx.Bucket(bucketMembers), childPrefix("a"), false) {
			got = append(got, string(k))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a\x00b", "a\x00zz"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("keys under a = %q, want %q", got, want)
	}
}
