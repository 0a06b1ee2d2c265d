package storagetest

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
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// testRollRepeatWithin: a roll of a token already replaced, inside
// RepeatWithin of the successor's creation, hands out that successor again
// and changes nothing; at the interval's end it is reuse, as always.
func testRollRepeatWithin(t *testing.T, openStore NewStore) {
	t.Parallel()
	const within = 30 * time.Second
	rolled := t0.Add(time.Minute) // 02 is made at minute 1
	tests := []struct {
		name    string
		within  time.Duration
		setup   func(t *testing.T, s storage.Backend)
		retries []time.Duration // after rolled: each answers 02 again
		reuseAt time.Duration   // after rolled: the roll that is refused
		wantErr error           // its error: ErrReused but where 01 stopped first
	}{
		{"twice within, then reuse at the interval's end", within, nil, []time.Duration{10 * time.Second, within - time.Nanosecond}, within, lifecycle.ErrReused},
		{"no interval: reuse at once", 0, nil, nil, time.Second, lifecycle.ErrReused},
		// Refreshing 02 ends 01's grace at once: 01 is simply revoked.
		{"successor refreshed in turn: no repeat", within, func(t *testing.T, s storage.Backend) {
			if _, _, err := s.RollToken(context.Background(), storage.Roll{OldID: "02", Next: nextRecAt("03", rolled.Add(time.Second)), Grace: time.Minute}); err != nil {
				t.Fatal(err)
			}
		}, nil, 2 * time.Second, lifecycle.ErrRevoked},
		{"successor revoked: reuse", within, func(t *testing.T, s storage.Backend) {
			if _, err := s.RevokeTokens(context.Background(), "acme", []string{"02"}, rolled.Add(time.Second), pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
				t.Fatal(err)
			}
		}, nil, 2 * time.Second, lifecycle.ErrReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := openStore(t)
			addWorkspace(t, s, "acme", "ann")
			addToken(t, s, "acme", "ann", "01")
			refresh := func(id string, at time.Time) storage.Roll {
				return storage.Roll{OldID: "01", Next: nextRecAt(id, at), Grace: 10 * time.Minute, RepeatWithin: tt.within}
			}
			first := refresh("02", rolled)
			_, made, err := s.RollToken(ctx, first)
			if err != nil {
				t.Fatalf("first refresh: %v", err)
			}
			if first.Repeated(made) {
				t.Fatal("the first refresh reports a repeat")
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			for i, d := range tt.retries {
				before := getAll(t, s, "01", "02")
				r := refresh("r"+string(rune('a'+i)), rolled.Add(d))
				old, next, err := s.RollToken(ctx, r)
				if err != nil {
					t.Fatalf("retry %d at +%v: %v; want the same successor", i, d, err)
				}
				if !r.Repeated(next) || next.GetToken().GetTokenId() != "02" || string(next.GetSealedSecret()) != "sealed-02" {
					t.Errorf("retry %d at +%v = %v; want 02 again with its sealed secret", i, d, next)
				}
				if old.GetToken().GetTokenId() != "01" {
					t.Errorf("retry %d: old = %v, want 01", i, old)
				}
				if diff := cmp.Diff(before, getAll(t, s, "01", "02"), protocmp.Transform()); diff != "" {
					t.Errorf("retry %d changed the stored tokens (-before +after):\n%s", i, diff)
				}
				if _, err := s.GetToken(ctx, "acme", r.Next.Token.TokenId); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("retry %d stored its unused token: %v", i, err)
				}
			}
			at := rolled.Add(tt.reuseAt)
			if _, _, err := s.RollToken(ctx, refresh("zz", at)); !errors.Is(err, tt.wantErr) {
				t.Fatalf("refresh at +%v = %v, want %v", tt.reuseAt, err, tt.wantErr)
			}
			for _, id := range []string{"01", "02"} {
				if tt.wantErr != lifecycle.ErrReused {
					break
				}
				if st, _ := tokenState(t, s, id, at); st != pb.TokenState_TOKEN_STATE_REVOKED {
					t.Errorf("token %s after reuse = %v, want REVOKED", id, st)
				}
			}
		})
	}
}

// nextRecAt is the record of a token made by a roll at at.
func nextRecAt(id string, at time.Time) *storagepb.TokenRecord {
	rec := nextRec(id, 0)
	rec.Token.CreateTime = timestamppb.New(at)
	return rec
}

// getAll reads the given tokens of acme.
func getAll(t *testing.T, s storage.Backend, ids ...string) []*storagepb.TokenRecord {
	t.Helper()
	out := make([]*storagepb.TokenRecord, len(ids))
	for i, id := range ids {
		rec, err := s.GetToken(context.Background(), "acme", id)
		if err != nil {
			t.Fatalf("GetToken(%s) = %v", id, err)
		}
		out[i] = rec
	}
	return out
}
