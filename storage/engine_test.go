package storage_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/storage"
)

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, want []byte
	}{
		{[]byte("a/"), []byte("a0")},
		{[]byte("a\xff"), []byte("b")},
		{[]byte("\xff\xff"), nil},
		{nil, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.prefix), func(t *testing.T) {
			t.Parallel()
			if got := storage.PrefixEnd(tt.prefix); !cmp.Equal(tt.want, got) {
				t.Errorf("PrefixEnd(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
}

func TestWriteSet(t *testing.T) {
	t.Parallel()
	w := storage.NewWriteSet(storage.EngineLimits{MaxOps: 2, MaxBytes: 10})
	key := []byte("k")
	if _, err := w.Note(key, []byte("1234"), false); err != nil {
		t.Fatalf("Note = %v", err)
	}
	key[0] = 'x' // Note copied it
	if _, err := w.Note([]byte("k"), nil, true); err != nil {
		t.Fatalf("Note(delete) = %v", err)
	}
	if _, err := w.Note([]byte("j"), []byte("12345678"), false); err != nil {
		t.Fatalf("Note at the limits = %v", err)
	}
	want := []storage.Change{{Key: []byte("k"), Delete: true}, {Key: []byte("j"), Value: []byte("12345678")}}
	if diff := cmp.Diff(want, w.Changes()); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	if _, err := w.Note([]byte("j"), []byte("123456789"), false); !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("Note past MaxBytes = %v, want ErrTooLarge", err)
	}
	if _, err := w.Note([]byte("k"), nil, true); !errors.Is(err, storage.ErrTooLarge) || !errors.Is(w.Err(), storage.ErrTooLarge) {
		t.Errorf("after the limit: Note = %v, Err = %v; want ErrTooLarge to stick", err, w.Err())
	}
	var view *storage.WriteSet
	if _, err := view.Note([]byte("k"), nil, false); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Note on a View's nil set = %v, want ErrInvalid", err)
	}
}
