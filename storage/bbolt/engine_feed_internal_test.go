package bbolt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	bolt "go.etcd.io/bbolt"

	"tokenauthority/storage"
)

// FuzzEngineJournal: decoding a journal entry never panics, and whatever
// decodes survives encoding and decoding again unchanged (the bytes may
// differ: a varint can be written longer than needed).
func FuzzEngineJournal(f *testing.F) {
	f.Add(encodeChanges([]storage.Change{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Delete: true}}))
	f.Add(encodeChanges([]storage.Change{{Key: []byte("k"), Value: []byte{}}}))
	f.Add([]byte{0, 5, 'a'})
	f.Add([]byte{2, 1, 'a'})
	f.Add([]byte{0, 0x80, 0, 1, '0'})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, buf []byte) {
		changes, err := decodeChanges(buf)
		if err != nil {
			return
		}
		again, err := decodeChanges(encodeChanges(changes))
		if err != nil {
			t.Fatalf("decoding the encoding of %x: %v", buf, err)
		}
		if !cmp.Equal(changes, again, cmpopts.EquateEmpty()) {
			t.Errorf("%x decodes to %+v, re-encoded to %+v", buf, changes, again)
		}
	})
}

// TestDamagedJournalEntry: a journal entry that is not a bucket, or whose
// changes do not decode, fails the feed that reaches it with an error
// naming its revision, and trimming the journal past it still works.
func TestDamagedJournalEntry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		damage func(j *bolt.Bucket, k []byte) error
	}{
		{"plain value", func(j *bolt.Bucket, k []byte) error {
			if err := j.DeleteBucket(k); err != nil {
				return err
			}
			return j.Put(k, encodeChanges([]storage.Change{{Key: []byte("a"), Value: []byte("1")}}))
		}},
		{"undecodable", func(j *bolt.Bucket, k []byte) error {
			return j.Bucket(k).Put(entryKey, []byte{7, 1, 'a'})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e, err := OpenEngine(filepath.Join(t.TempDir(), "engine.db"), EngineOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			for _, k := range []string{"k/1", "k/2"} {
				if _, err := e.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte(k), []byte("v")) }); err != nil {
					t.Fatal(err)
				}
			}
			err = e.db.Update(func(btx *bolt.Tx) error { return tc.damage(btx.Bucket(engineJournal), revKey(1)) })
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.readJournal(ctx, 0); err == nil || !strings.Contains(err.Error(), "journal revision 1") {
				t.Errorf("reading the damaged entry: %v, want an error naming revision 1", err)
			}
			page, err := e.readJournal(ctx, 1)
			if err != nil || len(page) != 1 || page[0].Revision != 2 {
				t.Fatalf("reading after the damaged entry: %v, %+v; want revision 2", err, page)
			}
			if err := e.TrimJournal(ctx, 1); err != nil {
				t.Fatalf("trimming the damaged entry: %v", err)
			}
			if _, err := e.readJournal(ctx, 0); !errors.Is(err, storage.ErrCompacted) {
				t.Errorf("reading from 0 after the trim: %v, want ErrCompacted", err)
			}
		})
	}
}
