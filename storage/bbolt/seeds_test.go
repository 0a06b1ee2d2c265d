package bbolt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// parkSeed creates token id with a seed expiring at exp (never when zero).
func parkSeed(t *testing.T, s *bbolt.Store, id string, exp time.Time) *storagepb.SeedRecord {
	t.Helper()
	rec := &storagepb.SeedRecord{TokenId: id, SealedSecret: []byte("sealed-seed-" + id)}
	if !exp.IsZero() {
		rec.ExpireTime = timestamppb.New(exp)
	}
	if err := s.CreateToken(context.Background(), tokenRec("acme", "ann", id), &storage.SeedPark{Hash: hashOf("seed-" + id), Record: rec}); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestPickSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	exp := t0.Add(10 * time.Minute)
	live := parkSeed(t, s, "01", exp)
	forever := parkSeed(t, s, "02", time.Time{})
	parkSeed(t, s, "03", exp)
	// Steps run in order: a seed is picked once.
	tests := []struct {
		name string
		seed string
		now  time.Time
		want *storagepb.SeedRecord
		err  error
	}{
		{"live", "seed-01", t0, live, nil},
		{"picked already", "seed-01", t0, nil, storage.ErrNotFound},
		{"no expiry", "seed-02", t0.Add(1000 * time.Hour), forever, nil},
		{"expired", "seed-03", exp, nil, storage.ErrNotFound},
		{"expired one is gone", "seed-03", t0, nil, storage.ErrNotFound},
		{"never parked", "seed-99", t0, nil, storage.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := s.PickSeed(ctx, hashOf(tt.seed), tt.now, openOK)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Fatalf("%s: PickSeed = %v, want %v", tt.name, err, tt.err)
		}
		if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: PickSeed (-want +got):\n%s", tt.name, diff)
		}
	}
	// The token itself outlives its seed.
	if _, err := s.GetToken(ctx, "acme", "03"); err != nil {
		t.Errorf("GetToken after seed expiry = %v", err)
	}
}

func openOK(*storagepb.SeedRecord) error { return nil }

// TestPickSeedKeepsSeedWhenOpenFails: a seed whose secret cannot be opened
// stays parked, so a server restarted with the right key can still hand it
// out; the same pick with a working open then succeeds once.
func TestPickSeedKeepsSeedWhenOpenFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	want := parkSeed(t, s, "01", t0.Add(time.Minute))
	errKey := errors.New("cannot open")
	var opened int
	_, err := s.PickSeed(ctx, hashOf("seed-01"), t0, func(rec *storagepb.SeedRecord) error {
		opened++
		return errKey
	})
	if !errors.Is(err, errKey) || opened != 1 {
		t.Fatalf("PickSeed with a failing open = %v after %d opens; want the open error after 1", err, opened)
	}
	got, err := s.PickSeed(ctx, hashOf("seed-01"), t0, openOK)
	if err != nil {
		t.Fatalf("PickSeed after a failed open = %v; want the seed still parked", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("PickSeed (-want +got):\n%s", diff)
	}
	if _, err := s.PickSeed(ctx, hashOf("seed-01"), t0, openOK); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second pick = %v; want ErrNotFound", err)
	}
}

// TestPickSeedOfRevokedToken: a seed whose token was revoked is not handed
// out (its secret would be dead anyway), is never opened, and is deleted.
func TestPickSeedOfRevokedToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	parkSeed(t, s, "01", t0.Add(time.Minute))
	if _, err := s.RevokeToken(ctx, "acme", "01", t0, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}
	_, err := s.PickSeed(ctx, hashOf("seed-01"), t0, func(*storagepb.SeedRecord) error {
		t.Error("open called for a revoked token's seed")
		return nil
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PickSeed of a revoked token = %v; want ErrNotFound", err)
	}
	n, err := s.PurgeExpiredSeeds(ctx, t0.Add(time.Hour))
	if err != nil || n != 0 {
		t.Errorf("PurgeExpiredSeeds after the refused pick = %d, %v; want 0 left to purge", n, err)
	}
}

func TestPurgeExpiredSeeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	parkSeed(t, s, "01", t0.Add(time.Minute))
	parkSeed(t, s, "02", t0.Add(2*time.Minute))
	parkSeed(t, s, "03", t0.Add(3*time.Minute))
	parkSeed(t, s, "04", time.Time{})
	tests := []struct {
		now  time.Time
		want int
	}{
		{t0, 0},
		{t0.Add(2 * time.Minute), 2},
		{t0.Add(2 * time.Minute), 0},
		{t0.Add(1000 * time.Hour), 1},
	}
	for _, tt := range tests {
		got, err := s.PurgeExpiredSeeds(ctx, tt.now)
		if err != nil || got != tt.want {
			t.Errorf("PurgeExpiredSeeds(%v) = %d, %v; want %d", tt.now, got, err, tt.want)
		}
	}
	if _, err := s.PickSeed(ctx, hashOf("seed-04"), t0, openOK); err != nil {
		t.Errorf("PickSeed(never-expiring seed) = %v", err)
	}
}
