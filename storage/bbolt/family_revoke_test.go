package bbolt_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// TestEveryRevocationRevokesDescendants: bulk revocation by id, revocation
// of a user's tokens, a leak report of an old secret and removing the
// member all revoke the tokens that replaced the named one, in the same
// commit, and record their reason on the tokens they stop.
func TestEveryRevocationRevokesDescendants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := t0.Add(5 * time.Minute)
	tests := []struct {
		name   string
		revoke func(s *bbolt.Store) ([]*storagepb.TokenRecord, error)
		reason pb.RevokeReason
	}{
		{"by id", func(s *bbolt.Store) ([]*storagepb.TokenRecord, error) {
			return s.RevokeTokens(ctx, "acme", []string{"01"}, at, pb.RevokeReason_REVOKE_REASON_ADMIN)
		}, pb.RevokeReason_REVOKE_REASON_ADMIN},
		{"by id, twice in one call", func(s *bbolt.Store) ([]*storagepb.TokenRecord, error) {
			return s.RevokeTokens(ctx, "acme", []string{"03", "01", "04"}, at, pb.RevokeReason_REVOKE_REASON_USER)
		}, pb.RevokeReason_REVOKE_REASON_USER},
		{"a user's tokens", func(s *bbolt.Store) ([]*storagepb.TokenRecord, error) {
			return s.RevokeUserTokens(ctx, "acme", "ann", at, pb.RevokeReason_REVOKE_REASON_ADMIN)
		}, pb.RevokeReason_REVOKE_REASON_ADMIN},
		{"leak of the first secret", func(s *bbolt.Store) ([]*storagepb.TokenRecord, error) {
			return s.RevokeLeaked(ctx, [][32]byte{hashOf("secret-01")}, at)
		}, pb.RevokeReason_REVOKE_REASON_LEAKED},
		{"member removed", func(s *bbolt.Store) ([]*storagepb.TokenRecord, error) {
			n, err := s.RemoveMember(ctx, "acme", "ann", at)
			if err == nil && n != 2 {
				err = fmt.Errorf("RemoveMember revoked %d tokens; want 2", n)
			}
			return nil, err
		}, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			addWorkspace(t, s, "acme", "ann", "bob")
			addToken(t, s, "acme", "bob", "99")
			chain(t, s, 4) // 01 and 02 stopped by rolls; 03 in grace; 04 live
			got, err := tt.revoke(s)
			if err != nil {
				t.Fatal(err)
			}
			if got != nil {
				if want := []string{"03", "04"}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
					t.Errorf("revoked %v; want %v (the tokens that still worked)", ids(got), want)
				}
			}
			checkRevoked(t, s, "acme", map[string]revokedState{
				"01": {t0.Add(3 * time.Minute), pb.RevokeReason_REVOKE_REASON_ROLLED},
				"02": {t0.Add(4 * time.Minute), pb.RevokeReason_REVOKE_REASON_ROLLED},
				"03": {at, tt.reason},
				"04": {at, tt.reason},
				"99": {},
			})
		})
	}
}

// TestUpdateCannotRevoke: UpdateToken refuses a change of the revocation,
// which only the revoke paths may set.
func TestUpdateCannotRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addToken(t, s, "acme", "ann", "01")
	_, err := s.UpdateToken(ctx, "acme", "01", t0, func(tok *pb.Token, _ *pb.TokenPolicy) error {
		tok.RevokeTime = timestamppb.New(t0)
		return nil
	})
	if !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("UpdateToken setting revoke_time = %v; want ErrInvalid", err)
	}
	checkRevoked(t, s, "acme", map[string]revokedState{"01": {}})
}

// TestSweepKeepsFamiliesWhole: the retention sweep deletes a family's
// members oldest first, so that the members it keeps are an unbroken chain
// and every revocation still reaches the live ones.
func TestSweepKeepsFamiliesWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("old members go, the live ones stay reachable", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		addWorkspace(t, s, "acme", "ann")
		chain(t, s, 5) // 01..03 stopped by minute 5; 04 in grace until 15; 05 live
		n, err := s.SweepTokens(ctx, t0.Add(5*time.Minute), 0)
		if err != nil || n != 3 {
			t.Fatalf("SweepTokens = %d, %v; want 3", n, err)
		}
		for _, id := range []string{"01", "02", "03"} {
			if _, err := s.GetToken(ctx, "acme", id); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("GetToken(%s) after sweep = %v; want ErrNotFound", id, err)
			}
		}
		// Reuse of 04 (in grace, already replaced) revokes the rest of its
		// family; the walk up stops at the oldest stored member.
		if _, _, err := roll(ctx, s, "04", "09", 6, 0); !errors.Is(err, lifecycle.ErrReused) {
			t.Fatalf("second roll of 04 = %v; want ErrReused", err)
		}
		at := t0.Add(6 * time.Minute)
		checkRevoked(t, s, "acme", map[string]revokedState{
			"04": {at, pb.RevokeReason_REVOKE_REASON_REUSE_DETECTED},
			"05": {at, pb.RevokeReason_REVOKE_REASON_REUSE_DETECTED},
		})
	})

	t.Run("a member waits for the token it replaced", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		addWorkspace(t, s, "acme", "ann")
		addToken(t, s, "acme", "ann", "01")
		if _, _, err := roll(ctx, s, "01", "02", 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		mustRevoke(t, s, "02", t0.Add(2*time.Minute)) // 01 is in its grace until minute 61
		n, err := s.SweepTokens(ctx, t0.Add(30*time.Minute), 0)
		if err != nil || n != 0 {
			t.Fatalf("SweepTokens before 01 ends = %d, %v; want 0 (02 waits for 01)", n, err)
		}
		if _, err := s.GetToken(ctx, "acme", "02"); err != nil {
			t.Fatalf("GetToken(02) = %v; want it kept while 01 is stored", err)
		}
		n, err = s.SweepTokens(ctx, t0.Add(2*time.Hour), 0)
		if err != nil || n != 2 {
			t.Fatalf("SweepTokens after 01 ends = %d, %v; want 2", n, err)
		}
	})

	t.Run("successor sorting before its predecessor", func(t *testing.T) {
		t.Parallel()
		// Ids made in the same millisecond sort at random: the successor
		// may come first in the walk, and in an earlier batch.
		s := openStore(t)
		addWorkspace(t, s, "acme", "ann")
		addToken(t, s, "acme", "ann", "05")
		if _, _, err := roll(ctx, s, "05", "04", 1, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := roll(ctx, s, "04", "03", 2, 0); err != nil {
			t.Fatal(err)
		}
		mustRevoke(t, s, "03", t0.Add(3*time.Minute))
		n, err := s.SweepTokens(ctx, t0.Add(time.Hour), 1)
		if err != nil || n != 3 {
			t.Fatalf("SweepTokens = %d, %v; want 3", n, err)
		}
		if tokens, _, err := s.Counts(ctx); err != nil || tokens != 0 {
			t.Errorf("Counts tokens = %d, %v; want 0", tokens, err)
		}
	})

	t.Run("expired under the workspace policy", func(t *testing.T) {
		t.Parallel()
		s := openStore(t)
		addWorkspace(t, s, "acme", "ann")
		addToken(t, s, "acme", "ann", "01")
		setPolicy(t, s, &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Hour)})
		n, err := s.SweepTokens(ctx, t0.Add(30*time.Minute), 0)
		if err != nil || n != 0 {
			t.Fatalf("SweepTokens before the policy's end = %d, %v; want 0", n, err)
		}
		n, err = s.SweepTokens(ctx, t0.Add(2*time.Hour), 0)
		if err != nil || n != 1 {
			t.Fatalf("SweepTokens after the policy's end = %d, %v; want 1", n, err)
		}
	})
}
