package bbolt_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

func TestKeyCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.KeyCheck(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("KeyCheck of a new store = %v; want ErrNotFound", err)
	}
	if err := s.SetKeyCheck(ctx, nil); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetKeyCheck(empty) = %v; want ErrInvalid", err)
	}
	for _, v := range [][]byte{[]byte("first"), []byte("second")} {
		if err := s.SetKeyCheck(ctx, v); err != nil {
			t.Fatal(err)
		}
		got, err := s.KeyCheck(ctx)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("KeyCheck = %q, %v; want %q", got, err, v)
		}
	}
}

// TestSealedSample finds a sealed secret wherever the store keeps one: a
// parked seed, or a revealable token among hash-only ones.
func TestSealedSample(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	if _, err := s.SealedSample(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SealedSample of an empty store = %v; want ErrNotFound", err)
	}
	hashOnly := tokenRec("acme", "ann", "01")
	hashOnly.SealedSecret = nil
	if err := s.CreateToken(ctx, hashOnly, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SealedSample(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("SealedSample with hash-only tokens = %v; want ErrNotFound", err)
	}
	if err := s.CreateToken(ctx, tokenRec("acme", "ann", "02"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.SealedSample(ctx)
	if err != nil || string(got.Value) != "sealed-02" || string(got.AAD) != "02" {
		t.Errorf("SealedSample = %q/%q, %v; want token 02's secret and id", got.Value, got.AAD, err)
	}
	seed := parkSeed(t, s, "03", t0.Add(time.Minute))
	got, err = s.SealedSample(ctx)
	h := hashOf("seed-03")
	if err != nil || !bytes.Equal(got.Value, seed.GetSealedSecret()) || !bytes.Equal(got.AAD, h[:]) {
		t.Errorf("SealedSample = %q/%x, %v; want the parked seed's secret and hash", got.Value, got.AAD, err)
	}
}

// TestKeyChecks: one key check value per key id, key 0's being the one
// KeyCheck has always read; each survives a reopen and can be deleted.
func TestKeyChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.KeyChecks(ctx); err != nil || len(got) != 0 {
		t.Fatalf("KeyChecks of a new store = %v, %v; want none", got, err)
	}
	if err := s.SetKeyCheck(ctx, []byte("zero")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{1: []byte("one"), 12: []byte("twelve"), 4294967295: []byte("max")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{2: nil}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetKeyChecks(empty value) = %v; want ErrInvalid", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, bbolt.Options{})
	got, err := s.KeyChecks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32][]byte{0: []byte("zero"), 1: []byte("one"), 12: []byte("twelve"), 4294967295: []byte("max")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyChecks() mismatch (-want +got):\n%s", diff)
	}
	for _, id := range []uint32{0, 12} {
		if err := s.DeleteKeyCheck(ctx, id); err != nil {
			t.Fatal(err)
		}
		delete(want, id)
	}
	got, err = s.KeyChecks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyChecks() after deleting 0 and 12 mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.KeyCheck(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("KeyCheck() after deleting key 0's = %v; want ErrNotFound", err)
	}
}
