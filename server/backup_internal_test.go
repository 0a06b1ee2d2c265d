package server

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestChunkWriter feeds writes of assorted sizes and checks that every
// message but the last is full, none is empty, and the messages in order
// are the bytes written.
func TestChunkWriter(t *testing.T) {
	t.Parallel()
	const size = 8
	tests := []struct {
		name   string
		writes []int
		want   []int // message sizes
	}{
		{"nothing", nil, nil},
		{"less than a chunk", []int{3}, []int{3}},
		{"exactly a chunk", []int{8}, []int{8}},
		{"small writes", []int{3, 3, 3, 3}, []int{8, 4}},
		{"one large write", []int{20}, []int{8, 8, 4}},
		{"mixed", []int{1, 15, 0, 9}, []int{8, 8, 8, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sent [][]byte
			w := &chunkWriter{buf: make([]byte, 0, size), send: func(m *pb.BackupResponse) error {
				sent = append(sent, m.GetData())
				return nil
			}}
			var all []byte
			for i, n := range tc.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				all = append(all, p...)
				got, err := w.Write(p)
				if err != nil || got != n {
					t.Fatalf("Write(%d bytes) = %d, %v", n, got, err)
				}
			}
			if err := w.flush(); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, m := range sent {
				sizes = append(sizes, len(m))
			}
			if !slices.Equal(sizes, tc.want) {
				t.Errorf("message sizes %v; want %v", sizes, tc.want)
			}
			if got := bytes.Join(sent, nil); !bytes.Equal(got, all) {
				t.Errorf("messages hold %q; want %q", got, all)
			}
		})
	}
}

// TestChunkWriterSendError: a failed send stops the writer and reports how
// much was taken, so the snapshot is abandoned rather than cut short.
func TestChunkWriterSendError(t *testing.T) {
	t.Parallel()
	gone := errors.New("client went away")
	w := &chunkWriter{buf: make([]byte, 0, 4), send: func(*pb.BackupResponse) error { return gone }}
	n, err := w.Write(make([]byte, 10))
	if !errors.Is(err, gone) || n != 4 {
		t.Errorf("Write = %d, %v; want 4, %v", n, err, gone)
	}
}
