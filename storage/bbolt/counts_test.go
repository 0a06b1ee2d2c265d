package bbolt_test

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage/bbolt"
)

func wantCounts(t *testing.T, s *bbolt.Store, tokens, workspaces int) {
	t.Helper()
	gotT, gotW, err := s.Counts(context.Background())
	if err != nil {
		t.Fatalf("Counts = %v", err)
	}
	if gotT != tokens || gotW != workspaces {
		t.Errorf("Counts = %d tokens, %d workspaces; want %d, %d", gotT, gotW, tokens, workspaces)
	}
}

// TestCountsFollowWrites: every write that adds or removes a token or a
// workspace moves the counts in the same commit; refused writes do not.
func TestCountsFollowWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ta.db")
	s := openAt(t, path, bbolt.Options{})
	wantCounts(t, s, 0, 0)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta", "bob")
	wantCounts(t, s, 0, 2)
	for _, id := range []string{"01", "02", "03"} {
		if err := s.CreateToken(ctx, tokenRec("acme", "ann", id), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateToken(ctx, tokenRec("beta", "bob", "04"), nil); err != nil {
		t.Fatal(err)
	}
	// Refused: the id is taken. Nothing is counted.
	if err := s.CreateToken(ctx, tokenRec("acme", "ann", "01"), nil); err == nil {
		t.Fatal("duplicate CreateToken succeeded")
	}
	wantCounts(t, s, 4, 2)
	// A roll adds one record and rewrites the old one; the next roll also
	// rewrites the old one's predecessor (its grace ends). Rewrites of
	// existing records are not counted.
	if _, _, err := roll(ctx, s, "01", "05", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := roll(ctx, s, "05", "06", 2, time.Hour); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, 6, 2)
	// Rolling 05 again (still in its grace) revokes its family, rewrites
	// only, and adds nothing.
	if _, _, err := roll(ctx, s, "05", "07", 3, time.Hour); !errors.Is(err, lifecycle.ErrReused) {
		t.Fatalf("second roll of 05 = %v; want ErrReused", err)
	}
	if _, err := s.UpdateToken(ctx, "acme", "03", t0, func(tok *pb.Token, _ *pb.TokenPolicy) error { tok.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeToken(ctx, "acme", "02", t0, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeTokens(ctx, "acme", []string{"02", "03"}, t0, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, 6, 2) // a revoked token is still a stored record
	if err := s.DeleteWorkspace(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, 1, 1)
	if err := s.DeleteWorkspace(ctx, "nope", true); err == nil {
		t.Fatal("DeleteWorkspace of a missing workspace succeeded")
	}
	wantCounts(t, s, 1, 1)

	// The counts are stored: a reopened file reports the same.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, bbolt.Options{})
	wantCounts(t, s, 1, 1)
}

// TestCountsOfVersion1File: a file written before the counts existed gets
// them counted once when opened.
func TestCountsOfVersion1File(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ta.db")
	s := openAt(t, path, bbolt.Options{})
	addWorkspace(t, s, "acme", "ann")
	for _, id := range []string{"01", "02"} {
		if err := s.CreateToken(ctx, tokenRec("acme", "ann", id), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Make it look like version 1: no counts.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		for _, k := range []string{"count/tokens", "count/workspaces"} {
			if err := meta.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return meta.Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 1))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, bbolt.Options{})
	wantCounts(t, s, 2, 1)
}
