package bbolt_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

func TestSweepTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, commits := countingStore(t)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta", "bob")
	cutoff := t0
	withExpiry := func(ws, user, id string, exp time.Time) {
		rec := tokenRec(ws, user, id)
		rec.Token.ExpireTime = timestamppb.New(exp)
		if err := s.CreateToken(ctx, rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	addToken(t, s, "acme", "ann", "01")                     // live: kept
	addToken(t, s, "acme", "ann", "02")                     // revoked at the cutoff: deleted
	addToken(t, s, "acme", "ann", "03")                     // revoked after the cutoff: kept
	withExpiry("acme", "ann", "04", cutoff.Add(-time.Hour)) // expired before: deleted
	withExpiry("acme", "ann", "05", cutoff.Add(time.Hour))  // expires after: kept
	addToken(t, s, "beta", "bob", "06")                     // revoked long ago, other workspace: deleted
	addToken(t, s, "acme", "ann", "07")                     // grace ends after the cutoff: kept
	revoke := map[string]struct {
		ws string
		at time.Time
	}{"02": {"acme", cutoff}, "03": {"acme", cutoff.Add(time.Second)}, "06": {"beta", cutoff.Add(-24 * time.Hour)}, "07": {"acme", cutoff.Add(time.Minute)}}
	for id, r := range revoke {
		if _, err := s.RevokeToken(ctx, r.ws, id, r.at, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
			t.Fatal(err)
		}
	}
	// A seed still parked for a swept token goes with it.
	seeded := tokenRec("acme", "ann", "08")
	seed := &storage.SeedPark{Hash: hashOf("seed-08"), Record: &storagepb.SeedRecord{TokenId: "08", ExpireTime: timestamppb.New(cutoff.Add(time.Hour))}}
	if err := s.CreateToken(ctx, seeded, seed); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeToken(ctx, "acme", "08", cutoff.Add(-time.Second), pb.RevokeReason_REVOKE_REASON_LEAKED); err != nil {
		t.Fatal(err)
	}

	before := commits.Load()
	n, err := s.SweepTokens(ctx, cutoff, 2)
	if err != nil {
		t.Fatalf("SweepTokens = %v", err)
	}
	if n != 4 {
		t.Errorf("SweepTokens deleted %d tokens; want 4", n)
	}
	if c := commits.Load() - before; c != 2 {
		t.Errorf("SweepTokens of 4 tokens in batches of 2 took %d commits; want 2", c)
	}
	for id, ws := range map[string]string{"02": "acme", "04": "acme", "06": "beta", "08": "acme"} {
		if _, err := s.GetToken(ctx, ws, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetToken(%s) after sweep = %v; want ErrNotFound", id, err)
		}
		if _, _, err := s.LookupToken(ctx, hashOf("secret-"+id)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("LookupToken(%s) after sweep = %v; want ErrNotFound (hash index entry deleted)", id, err)
		}
	}
	if _, err := s.PickSeed(ctx, hashOf("seed-08"), cutoff, openOK); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PickSeed of a swept token's seed = %v; want ErrNotFound", err)
	}
	got, err := s.ListTokens(ctx, "acme", "", 0, true, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"07", "05", "03", "01"}; fmt.Sprint(want) != fmt.Sprint(idsInOrder(got)) {
		t.Errorf("tokens left in acme = %v; want %v", idsInOrder(got), want)
	}
	// Nothing left to sweep: no write.
	before = commits.Load()
	if n, err := s.SweepTokens(ctx, cutoff, 0); err != nil || n != 0 {
		t.Errorf("second SweepTokens = %d, %v; want 0", n, err)
	}
	if c := commits.Load() - before; c != 0 {
		t.Errorf("an empty sweep took %d commits; want 0", c)
	}
	if tokens, _, err := s.Counts(ctx); err != nil || tokens != 4 {
		t.Errorf("Counts tokens = %d, %v; want 4", tokens, err)
	}
}

// TestSweepTokensManyBatches sweeps in many small commits, each resuming
// where the previous scan stopped.
func TestSweepTokensManyBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	const total = 300
	var recs []*storagepb.TokenRecord
	for i := range total {
		rec := tokenRec("acme", "ann", fmt.Sprintf("%05d", i))
		if i%3 != 0 {
			rec.Token.ExpireTime = timestamppb.New(t0.Add(-time.Hour))
		}
		recs = append(recs, rec)
	}
	var wg sync.WaitGroup
	for w := range 30 { // concurrent writers share commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += 30 {
				if err := s.CreateToken(ctx, recs[i], nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	n, err := s.SweepTokens(ctx, t0, 7)
	if err != nil || n != total-total/3 {
		t.Fatalf("SweepTokens = %d, %v; want %d", n, err, total-total/3)
	}
	left, err := s.ListTokens(ctx, "acme", "", 0, true, t0)
	if err != nil || len(left) != total/3 {
		t.Fatalf("left %d tokens, %v; want %d", len(left), err, total/3)
	}
}

func idsInOrder(recs []*storagepb.TokenRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.GetToken().GetTokenId())
	}
	return out
}

func TestListTokensMatching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	for i := 1; i <= 9; i++ {
		user := "ann"
		if i%3 == 0 {
			user = "bob"
		}
		addToken(t, s, "acme", user, fmt.Sprintf("%02d", i))
	}
	bob := func(t *pb.Token) bool { return t.GetUserId() == "bob" }
	tests := []struct {
		name   string
		before string
		limit  int
		match  func(*pb.Token) bool
		want   []string
	}{
		{"all", "", 0, nil, []string{"09", "08", "07", "06", "05", "04", "03", "02", "01"}},
		{"filter fills the page", "", 2, bob, []string{"09", "06"}},
		{"next page after skipped records", "06", 2, bob, []string{"03"}},
		{"none", "", 5, func(*pb.Token) bool { return false }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListTokensMatching(ctx, "acme", tt.before, tt.limit, tt.match)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(tt.want) != fmt.Sprint(idsInOrder(got)) {
				t.Errorf("got %v; want %v", idsInOrder(got), tt.want)
			}
		})
	}
}
