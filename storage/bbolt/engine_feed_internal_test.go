package bbolt

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
