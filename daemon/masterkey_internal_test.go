package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"tokenauthority/seal"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// raceChecks answers its first KeyChecks as read before another process
// (a replica starting at the same time) stored its key check.
type raceChecks struct {
	storage.Backend
	reads int
}

func (r *raceChecks) KeyChecks(ctx context.Context) (map[uint32][]byte, error) {
	r.reads++
	if r.reads == 1 {
		return map[uint32][]byte{}, nil
	}
	return r.Backend.KeyChecks(ctx)
}

// TestKeyCheckRace: a start that finds no key check, while another process
// stores one first, holds its key to that check instead of replacing it:
// the same key starts, another is refused.
func TestKeyCheckRace(t *testing.T) {
	t.Parallel()
	key := func(b byte) []byte {
		k := make([]byte, seal.KeySize)
		for i := range k {
			k[i] = b
		}
		return k
	}
	tests := []struct {
		name    string
		theirs  []byte // the key the other process sealed its check under
		wantErr error
	}{
		{"same key", key(1), nil},
		{"another key", key(2), ErrWrongMasterKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dir := t.TempDir()
			store, err := bbolt.Open(filepath.Join(dir, "tokenauthority.db"), bbolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			box, err := seal.New(tt.theirs)
			if err != nil {
				t.Fatal(err)
			}
			check, err := box.Seal(keyCheckPlain, keyCheckAAD)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.SetKeyChecks(ctx, map[uint32][]byte{0: check}); err != nil {
				t.Fatal(err)
			}
			racing := &raceChecks{Backend: store}
			cfg := Config{DataDir: dir, MasterKey: seal.FormatKey(key(1))}
			_, err = openMasterKey(ctx, cfg, racing, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("openMasterKey = %v; want %v", err, tt.wantErr)
			}
			if racing.reads != 2 {
				t.Errorf("key checks read %d times; want 2 (once more after losing the race)", racing.reads)
			}
			got, err := store.KeyChecks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if string(got[0]) != string(check) {
				t.Error("the other process's key check was replaced")
			}
		})
	}
}
