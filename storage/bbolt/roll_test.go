package bbolt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// nextRec is the record of a token made by a roll at t0+minutes.
func nextRec(id string, minutes int) *storagepb.TokenRecord {
	rec := tokenRec("", "", id)
	rec.Token.WorkspaceId, rec.Token.UserId = "acme", "ann" // checked shape only; RollToken copies the old token's
	rec.Token.CreateTime = timestamppb.New(t0.Add(time.Duration(minutes) * time.Minute))
	return rec
}

func roll(ctx context.Context, s *bbolt.Store, oldID, nextID string, minutes int, grace time.Duration) (old, next *storagepb.TokenRecord, err error) {
	return s.RollToken(ctx, storage.Roll{WorkspaceID: "acme", OldID: oldID, Next: nextRec(nextID, minutes), Grace: grace})
}

func TestRollToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const grace = time.Hour
	rollAt := t0.Add(time.Minute)
	tests := []struct {
		name       string
		setup      func(t *testing.T, s *bbolt.Store)
		roll       storage.Roll
		err        error
		wantRevoke time.Time // old's revoke_time after success
	}{
		{"roll", nil, storage.Roll{OldID: "01", Next: nextRec("02", 1), Grace: grace}, nil, rollAt.Add(grace)},
		{"grace 0 stops now", nil, storage.Roll{OldID: "01", Next: nextRec("02", 1)}, nil, rollAt},
		{"earlier scheduled revoke kept", func(t *testing.T, s *bbolt.Store) {
			mustRevoke(t, s, "01", t0.Add(30*time.Minute))
		}, storage.Roll{OldID: "01", Next: nextRec("02", 1), Grace: grace}, nil, t0.Add(30 * time.Minute)},
		{"later scheduled revoke brought forward", func(t *testing.T, s *bbolt.Store) {
			mustRevoke(t, s, "01", t0.Add(5*time.Hour))
		}, storage.Roll{OldID: "01", Next: nextRec("02", 1), Grace: grace}, nil, rollAt.Add(grace)},
		{"missing", nil, storage.Roll{OldID: "99", Next: nextRec("02", 1)}, storage.ErrNotFound, time.Time{}},
		{"other workspace", nil, storage.Roll{WorkspaceID: "beta", OldID: "01", Next: nextRec("02", 1)}, storage.ErrNotFound, time.Time{}},
		{"revoked", func(t *testing.T, s *bbolt.Store) { mustRevoke(t, s, "01", t0) },
			storage.Roll{OldID: "01", Next: nextRec("02", 1)}, lifecycle.ErrRevoked, time.Time{}},
		{"disabled", func(t *testing.T, s *bbolt.Store) {
			if _, err := s.UpdateToken(ctx, "acme", "01", t0, func(tok *pb.Token, _ *pb.TokenPolicy) error { tok.Disabled = true; return nil }); err != nil {
				t.Fatal(err)
			}
		}, storage.Roll{OldID: "01", Next: nextRec("02", 1)}, lifecycle.ErrDisabled, time.Time{}},
		{"expired under a policy lowered later", func(t *testing.T, s *bbolt.Store) {
			setPolicy(t, s, &pb.TokenPolicy{MaxLifetime: durationpb.New(30 * time.Second)})
		}, storage.Roll{OldID: "01", Next: nextRec("02", 1)}, lifecycle.ErrExpired, time.Time{}},
		{"member removed", func(t *testing.T, s *bbolt.Store) {
			// A removal "in the future" leaves the old token unrevoked at the
			// roll time, isolating the membership check.
			if _, err := s.RemoveMember(ctx, "acme", "ann", t0.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, storage.Roll{OldID: "01", Next: nextRec("02", 1)}, storage.ErrNotMember, time.Time{}},
		{"new id taken", nil, storage.Roll{OldID: "01", Next: nextRec("01", 1)}, storage.ErrAlreadyExists, time.Time{}},
		{"no create time", nil, storage.Roll{OldID: "01", Next: func() *storagepb.TokenRecord {
			r := nextRec("02", 1)
			r.Token.CreateTime = nil
			return r
		}()}, storage.ErrInvalid, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			addWorkspace(t, s, "acme", "ann")
			addWorkspace(t, s, "beta")
			first := tokenRec("acme", "ann", "01")
			first.Token.ExpireTime = timestamppb.New(t0.Add(24 * time.Hour))
			first.Token.Operations = []pb.Operation{pb.Operation_OPERATION_DOWNLOAD}
			first.Token.Zoos = []string{"acme/z"}
			if err := s.CreateToken(ctx, first, nil); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			before, err := s.GetToken(ctx, "acme", "01")
			if err != nil {
				t.Fatal(err)
			}
			old, next, err := s.RollToken(ctx, tt.roll)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("RollToken = %v, want %v", err, tt.err)
			}
			after, getErr := s.GetToken(ctx, "acme", "01")
			if getErr != nil {
				t.Fatal(getErr)
			}
			if err != nil {
				if diff := cmp.Diff(before, after, protocmp.Transform()); diff != "" {
					t.Errorf("refused RollToken changed the old token (-before +after):\n%s", diff)
				}
				if id := tt.roll.Next.Token.TokenId; id != "01" {
					if _, err := s.GetToken(ctx, "acme", id); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("refused next token stored: %v", err)
					}
				}
				return
			}
			if diff := cmp.Diff(old, after, protocmp.Transform()); diff != "" {
				t.Errorf("returned old differs from stored (-returned +stored):\n%s", diff)
			}
			o := after.Token
			wantReason := pb.RevokeReason_REVOKE_REASON_ROLLED
			if before.Token.GetRevokeTime() != nil && before.Token.GetRevokeTime().AsTime().Equal(tt.wantRevoke) {
				wantReason = before.Token.GetRevokeReason() // an earlier revocation stands, with its reason
			}
			if o.ReplacedBy != "02" || o.FamilyId != "01" || o.RevokeReason != wantReason {
				t.Errorf("old = replaced_by %q family %q reason %v; want 02, 01, %v", o.ReplacedBy, o.FamilyId, o.RevokeReason, wantReason)
			}
			if rt := o.GetRevokeTime(); rt == nil || !rt.AsTime().Equal(tt.wantRevoke) {
				t.Errorf("old revoke_time = %v, want %v", rt, tt.wantRevoke)
			}
			got, member, err := s.LookupToken(ctx, hashOf("secret-02"))
			if err != nil || !member {
				t.Fatalf("LookupToken(next) = member %v, %v", member, err)
			}
			if diff := cmp.Diff(next, got, protocmp.Transform(), withoutSealed); diff != "" {
				t.Errorf("returned next differs from stored (-returned +stored):\n%s", diff)
			}
			n := got.Token
			want := &pb.Token{
				TokenId: "02", WorkspaceId: "acme", UserId: "ann", Description: "token 01", MaskedKey: "dg_abc…02",
				CreateTime: timestamppb.New(rollAt), ExpireTime: timestamppb.New(rollAt.Add(24 * time.Hour)),
				Operations: first.Token.Operations, Zoos: first.Token.Zoos, Replaces: "01", FamilyId: "01",
			}
			if diff := cmp.Diff(want, n, protocmp.Transform()); diff != "" {
				t.Errorf("next token (-want +got):\n%s", diff)
			}
		})
	}
}

func mustRevoke(t *testing.T, s *bbolt.Store, id string, at time.Time) {
	t.Helper()
	if _, err := s.RevokeToken(context.Background(), "acme", id, at, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatalf("RevokeToken(%s) = %v", id, err)
	}
}

func setPolicy(t *testing.T, s *bbolt.Store, p *pb.TokenPolicy) {
	t.Helper()
	if _, err := s.UpdateWorkspace(context.Background(), "acme", func(ws *pb.Workspace) error { ws.TokenPolicy = p; return nil }); err != nil {
		t.Fatalf("UpdateWorkspace = %v", err)
	}
}

// chain stores 01 and rolls it into 02, 03, ... one minute apart with a
// 10-minute grace, returning the ids.
func chain(t *testing.T, s *bbolt.Store, n int) []string {
	t.Helper()
	ids := []string{"01"}
	addToken(t, s, "acme", "ann", "01")
	for i := 2; i <= n; i++ {
		id := "0" + string(rune('0'+i))
		if _, _, err := roll(context.Background(), s, ids[len(ids)-1], id, i, 10*time.Minute); err != nil {
			t.Fatalf("roll into %s = %v", id, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func tokenState(t *testing.T, s *bbolt.Store, id string, now time.Time) (pb.TokenState, *pb.Token) {
	t.Helper()
	rec, err := s.GetToken(context.Background(), "acme", id)
	if err != nil {
		t.Fatalf("GetToken(%s) = %v", id, err)
	}
	return lifecycle.State(rec.Token, now), rec.Token
}

// TestRollKeepsOnePredecessorInGrace: rolling a successor stops its own
// predecessor at once, so one secret never yields more than two live
// tokens.
func TestRollKeepsOnePredecessorInGrace(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	ids := chain(t, s, 5) // rolled at minutes 2..5
	now := t0.Add(5 * time.Minute)
	want := []pb.TokenState{pb.TokenState_TOKEN_STATE_REVOKED, pb.TokenState_TOKEN_STATE_REVOKED, pb.TokenState_TOKEN_STATE_REVOKED,
		pb.TokenState_TOKEN_STATE_ACTIVE, pb.TokenState_TOKEN_STATE_ACTIVE}
	for i, id := range ids {
		got, tok := tokenState(t, s, id, now)
		if got != want[i] {
			t.Errorf("token %s at minute 5 = %v, want %v", id, got, want[i])
		}
		if tok.FamilyId != "01" {
			t.Errorf("token %s family = %q, want 01", id, tok.FamilyId)
		}
	}
	if _, tok := tokenState(t, s, "04", now); !lifecycle.InGrace(tok, now) {
		t.Errorf("token 04 = %v; want in its grace period", tok)
	}
}

// TestRevokeRevokesDescendants: revoking a member of a family revokes it
// and every later member in the same commit.
func TestRevokeRevokesDescendants(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	ids := chain(t, s, 4)
	at := t0.Add(4 * time.Minute)
	mustRevoke(t, s, "01", at)
	// 01 stopped when 02 was rolled (minute 3), 02 when 03 was (minute 4);
	// 03, still in its grace period, and 04, the live token, stop now.
	want := []pb.RevokeReason{pb.RevokeReason_REVOKE_REASON_ROLLED, pb.RevokeReason_REVOKE_REASON_ROLLED,
		pb.RevokeReason_REVOKE_REASON_ADMIN, pb.RevokeReason_REVOKE_REASON_ADMIN}
	wantAt := []time.Time{t0.Add(3 * time.Minute), at, at, at}
	for i, id := range ids {
		_, tok := tokenState(t, s, id, at)
		if tok.GetRevokeReason() != want[i] || !tok.GetRevokeTime().AsTime().Equal(wantAt[i]) {
			t.Errorf("token %s = revoked at %v for %v; want %v for %v", id, tok.GetRevokeTime().AsTime(), tok.GetRevokeReason(), wantAt[i], want[i])
		}
	}
}

// TestRollReuseRevokesFamily: rolling a token that already has a successor
// revokes the whole family, commits that, and fails.
func TestRollReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	ids := chain(t, s, 3)
	_, _, err := roll(ctx, s, "02", "09", 4, time.Minute) // 02 is in grace, already replaced by 03
	if !errors.Is(err, lifecycle.ErrReused) {
		t.Fatalf("second roll of 02 = %v, want ErrReused", err)
	}
	at := t0.Add(4 * time.Minute)
	for _, id := range ids {
		st, tok := tokenState(t, s, id, at)
		if st != pb.TokenState_TOKEN_STATE_REVOKED {
			t.Errorf("token %s after reuse = %v, want REVOKED", id, st)
		}
		if id != "01" && tok.GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_REUSE_DETECTED {
			t.Errorf("token %s reason = %v, want REUSE_DETECTED", id, tok.GetRevokeReason())
		}
	}
	if _, err := s.GetToken(ctx, "acme", "09"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("token of the refused roll: %v, want ErrNotFound", err)
	}
}

// TestRollFamilyLifetime: with max_family_lifetime each roll still starts
// a fresh lifetime, but never past the family's end.
func TestRollFamilyLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	setPolicy(t, s, &pb.TokenPolicy{MaxFamilyLifetime: durationpb.New(time.Hour)})
	first := tokenRec("acme", "ann", "01")
	first.Token.TokenId = "01" // ids here carry no time: the family starts at the first token's create time
	first.Token.ExpireTime = timestamppb.New(t0.Add(40 * time.Minute))
	if err := s.CreateToken(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	_, next, err := roll(ctx, s, "01", "02", 30, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := next.Token.GetExpireTime().AsTime(), t0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("rolled expiry = %v, want the family's end %v", got, want)
	}
}

func TestUpdateToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta")
	ids := chain(t, s, 3)
	now := t0.Add(3 * time.Minute)
	disable := func(v bool) func(*pb.Token, *pb.TokenPolicy) error {
		return func(tok *pb.Token, _ *pb.TokenPolicy) error { tok.Disabled = v; return nil }
	}
	if _, err := s.UpdateToken(ctx, "acme", "01", now, disable(true)); !errors.Is(err, lifecycle.ErrRevoked) {
		t.Errorf("update of a revoked token = %v, want ErrRevoked", err)
	}
	if _, err := s.UpdateToken(ctx, "beta", "02", now, disable(true)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("update through another workspace = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateToken(ctx, "acme", "02", now, func(tok *pb.Token, _ *pb.TokenPolicy) error { tok.UserId = "eve"; return nil }); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("update of the user = %v, want ErrInvalid", err)
	}
	refused := errors.New("refused")
	if _, err := s.UpdateToken(ctx, "acme", "02", now, func(tok *pb.Token, _ *pb.TokenPolicy) error { tok.Disabled = true; return refused }); !errors.Is(err, refused) {
		t.Errorf("refused change = %v", err)
	}
	for _, v := range []bool{true, false} {
		got, err := s.UpdateToken(ctx, "acme", "02", now, disable(v))
		if err != nil || got.Token.Disabled != v {
			t.Fatalf("UpdateToken(disabled=%v) = %v, %v", v, got, err)
		}
		for _, id := range ids[1:] {
			if _, tok := tokenState(t, s, id, now); tok.Disabled != v {
				t.Errorf("after disabled=%v on 02, token %s disabled = %v", v, id, tok.Disabled)
			}
		}
	}
}
