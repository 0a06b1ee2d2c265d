package bbolt_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

func TestCreateToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addToken(t, s, "acme", "ann", "01")
	parked := &storage.SeedPark{Hash: hashOf("seed-parked"), Record: &storagepb.SeedRecord{TokenId: "02"}}
	if err := s.CreateToken(ctx, tokenRec("acme", "ann", "02"), parked); err != nil {
		t.Fatal(err)
	}
	sameHash := tokenRec("acme", "ann", "09")
	sameHash.SecretHash = tokenRec("acme", "ann", "01").SecretHash
	shortHash := tokenRec("acme", "ann", "10")
	shortHash.SecretHash = shortHash.SecretHash[:16]
	withState := tokenRec("acme", "ann", "11")
	withState.Token.State = pb.TokenState(1)

	tests := []struct {
		name string
		rec  *storagepb.TokenRecord
		seed *storage.SeedPark
		want error
	}{
		{"new", tokenRec("acme", "ann", "03"), nil, nil},
		{"with seed", tokenRec("acme", "ann", "04"), &storage.SeedPark{Hash: hashOf("seed-04"), Record: &storagepb.SeedRecord{TokenId: "04"}}, nil},
		{"no workspace", tokenRec("nope", "ann", "05"), nil, storage.ErrNotFound},
		{"not a member", tokenRec("acme", "bob", "06"), nil, storage.ErrNotMember},
		{"id taken", tokenRec("acme", "ann", "01"), nil, storage.ErrAlreadyExists},
		{"secret hash taken", sameHash, nil, storage.ErrAlreadyExists},
		{"seed hash taken", tokenRec("acme", "ann", "07"), &storage.SeedPark{Hash: parked.Hash, Record: &storagepb.SeedRecord{TokenId: "07"}}, storage.ErrAlreadyExists},
		{"nil seed record", tokenRec("acme", "ann", "08"), &storage.SeedPark{Hash: hashOf("x")}, storage.ErrInvalid},
		{"nil record", nil, nil, storage.ErrInvalid},
		{"nil token", &storagepb.TokenRecord{}, nil, storage.ErrInvalid},
		{"short hash", shortHash, nil, storage.ErrInvalid},
		{"empty user", tokenRec("acme", "", "12"), nil, storage.ErrInvalid},
		{"state is not stored", withState, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateToken(ctx, tt.rec, tt.seed)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CreateToken = %v, want %v", err, tt.want)
			}
			if err != nil {
				if strings.Contains(err.Error(), "secret-") || strings.Contains(err.Error(), "sealed-") {
					t.Errorf("error %q leaks secret material", err)
				}
				if tt.rec.GetToken() != nil && tt.want != storage.ErrAlreadyExists {
					if _, err := s.GetToken(ctx, tt.rec.Token.WorkspaceId, tt.rec.Token.TokenId); err == nil {
						t.Errorf("refused token %s was stored", tt.rec.Token.TokenId)
					}
				}
				if tt.seed != nil && tt.seed.Hash != parked.Hash {
					if _, err := s.PickSeed(ctx, tt.seed.Hash, t0, openOK); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("refused token's seed was parked: %v", err)
					}
				}
				return
			}
			want := proto.CloneOf(tt.rec)
			want.Token.State = pb.TokenState_TOKEN_STATE_UNSPECIFIED
			got, err := s.GetToken(ctx, "acme", tt.rec.Token.TokenId)
			if err != nil {
				t.Fatalf("GetToken = %v", err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("GetToken (-want +got):\n%s", diff)
			}
			if tt.seed != nil {
				seed, err := s.PickSeed(ctx, tt.seed.Hash, t0, openOK)
				if err != nil {
					t.Fatalf("PickSeed = %v", err)
				}
				if diff := cmp.Diff(tt.seed.Record, seed, protocmp.Transform()); diff != "" {
					t.Errorf("PickSeed (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestGetToken(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta", "bob")
	want := addToken(t, s, "acme", "ann", "01")
	tests := []struct {
		name, ws, id string
		want         error
	}{
		{"own workspace", "acme", "01", nil},
		{"other workspace", "beta", "01", storage.ErrNotFound},
		{"missing", "acme", "02", storage.ErrNotFound},
		{"empty id", "acme", "", storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.GetToken(context.Background(), tt.ws, tt.id)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("GetToken = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
					t.Errorf("GetToken (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestListTokensNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	addWorkspace(t, s, "acme-2", "ann")
	addWorkspace(t, s, "acmf", "ann") // sorts right after acme's range
	addWorkspace(t, s, "empty")
	for _, id := range []string{"03", "01", "05", "02", "04"} {
		addToken(t, s, "acme", "ann", id)
	}
	addToken(t, s, "acme-2", "ann", "06")
	addToken(t, s, "acmf", "ann", "07")
	if _, err := s.RevokeToken(ctx, "acme", "04", t0, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeToken(ctx, "acme", "02", t0.Add(time.Hour), pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil { // scheduled
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		ws, before     string
		limit          int
		includeRevoked bool
		want           []string
		err            error
	}{
		{"all", "acme", "", 0, true, []string{"05", "04", "03", "02", "01"}, nil},
		{"first page", "acme", "", 2, true, []string{"05", "04"}, nil},
		{"second page", "acme", "04", 2, true, []string{"03", "02"}, nil},
		{"last page", "acme", "02", 2, true, []string{"01"}, nil},
		{"past the end", "acme", "01", 2, true, nil, nil},
		{"before between ids", "acme", "035", 0, true, []string{"03", "02", "01"}, nil},
		{"before beyond all", "acme", "99", 1, true, []string{"05"}, nil},
		{"revoked left out", "acme", "", 0, false, []string{"05", "03", "02", "01"}, nil},
		{"revoked left out, paged", "acme", "05", 2, false, []string{"03", "02"}, nil},
		{"prefix neighbour", "acme-2", "", 0, true, []string{"06"}, nil},
		{"last workspace", "acmf", "", 0, true, []string{"07"}, nil},
		{"empty", "empty", "", 0, true, nil, nil},
		{"no workspace", "nope", "", 0, true, nil, storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListTokens(ctx, tt.ws, tt.before, tt.limit, tt.includeRevoked, t0)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("ListTokens = %v, want %v", err, tt.err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.Token.TokenId)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("ListTokens (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookupToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	ann := addToken(t, s, "acme", "ann", "01")
	bob := addToken(t, s, "acme", "bob", "02")
	if _, err := s.RemoveMember(ctx, "acme", "bob", t0); err != nil {
		t.Fatal(err)
	}
	bob.Token.RevokeTime = timestamppb.New(t0)
	bob.Token.RevokeReason = pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED
	tests := []struct {
		name       string
		hash       [32]byte
		want       *storagepb.TokenRecord
		wantMember bool
		err        error
	}{
		{"member", hashOf("secret-01"), ann, true, nil},
		{"removed member", hashOf("secret-02"), bob, false, nil},
		{"unknown", hashOf("secret-99"), nil, false, storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, member, err := s.LookupToken(ctx, tt.hash)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("LookupToken = %v, want %v", err, tt.err)
			}
			if member != tt.wantMember {
				t.Errorf("LookupToken member = %v, want %v", member, tt.wantMember)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform(), withoutSealed); diff != "" {
				t.Errorf("LookupToken (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRevokeToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta")
	addToken(t, s, "acme", "ann", "01")
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	// Steps run in order against the same token.
	tests := []struct {
		name, ws, id string
		at           time.Time
		want         *time.Time
		err          error
	}{
		{"schedule", "acme", "01", t2, &t2, nil},
		{"bring forward", "acme", "01", t1, &t1, nil},
		{"later does not postpone", "acme", "01", t2, &t1, nil},
		{"other workspace", "beta", "01", t0, nil, storage.ErrNotFound},
		{"missing", "acme", "02", t0, nil, storage.ErrNotFound},
	}
	for _, tt := range tests {
		got, err := s.RevokeToken(ctx, tt.ws, tt.id, tt.at, pb.RevokeReason_REVOKE_REASON_ADMIN)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Fatalf("%s: RevokeToken = %v, want %v", tt.name, err, tt.err)
		}
		if tt.want == nil {
			continue
		}
		if rt := got.Token.GetRevokeTime(); rt == nil || !rt.AsTime().Equal(*tt.want) {
			t.Errorf("%s: returned revoke_time = %v, want %v", tt.name, rt, *tt.want)
		}
		stored, err := s.GetToken(ctx, "acme", tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, stored, protocmp.Transform()); diff != "" {
			t.Errorf("%s: returned record differs from stored (-returned +stored):\n%s", tt.name, diff)
		}
	}
}

func TestCreateTokenConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	const writers, each = 32, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.CreateToken(ctx, tokenRec("acme", "ann", fmt.Sprintf("%02d-%d", w, i)), nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("CreateToken = %v", err)
	}
	list, err := s.ListTokens(ctx, "acme", "", 0, true, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list), writers*each; got != want {
		t.Errorf("ListTokens returned %d tokens, want %d", got, want)
	}
	for w := range writers {
		for i := range each {
			id := fmt.Sprintf("%02d-%d", w, i)
			if _, _, err := s.LookupToken(ctx, hashOf("secret-"+id)); err != nil {
				t.Errorf("LookupToken(%s) = %v", id, err)
			}
		}
	}
}
