package storagetest

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// The stores before the storage core left fixtures written by one scenario
// (storage/bbolt/testdata, storage/etcd/testdata; their READMEs list it).
// These are its facts; CheckMigrated reads them through a migrated store.

// FixtureT0 is the fixtures' "now": every time in them is an offset from it.
var FixtureT0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// The fixtures' tokens.
const (
	FixturePlain     = "01jnqx00000000000000000pa1" // acme/ann, never changed
	FixtureRolledOld = "01jnqx00000000000000000r01" // acme/ann, rolled at +2m with 1h grace
	FixtureRolledNew = "01jnqx00000000000000000r02" // acme/ann, its successor
	FixtureRevoked   = "01jnqx00000000000000000rv1" // acme/bob, revoked at +4m (admin)
	FixtureDisabled  = "01jnqx00000000000000000d01" // acme/ann, disabled at +6m
	FixtureUsed      = "01jnqx00000000000000000v01" // beta/cy, last used at +8m
	FixtureSeeded    = "01jnqx00000000000000000s01" // acme/ann, created with a parked seed
)

// FixtureSecretHash is the secret hash of fixture token id.
func FixtureSecretHash(id string) [32]byte { return sha256.Sum256([]byte("secret-" + id)) }

// FixtureSeedHash is the hash of the one parked seed.
var FixtureSeedHash = sha256.Sum256([]byte("seed-" + FixtureSeeded))

// CheckMigrated reads every kind of the fixture's records through s. Its
// audit log holds events first to 17, one chain (a sweep removed those
// before first, if any).
func CheckMigrated(t *testing.T, s storage.Backend, first uint64) {
	t.Helper()
	ctx := t.Context()
	if tokens, workspaces, err := s.Counts(ctx); err != nil || tokens != 7 || workspaces != 2 {
		t.Errorf("Counts = %d tokens, %d workspaces, %v; want 7, 2", tokens, workspaces, err)
	}
	if ws, err := s.GetWorkspace(ctx, "acme"); err != nil || ws.GetTokenPolicy().GetMaxLifetime().AsDuration() != 90*24*time.Hour {
		t.Errorf("GetWorkspace(acme) = %v, %v; want a 90 day max lifetime", ws, err)
	}
	if ms, err := s.ListMembers(ctx, "acme", "", 0); err != nil || len(ms) != 2 {
		t.Errorf("ListMembers(acme) = %v, %v; want ann and bob", ms, err)
	}
	if z, err := s.GetZoo(ctx, "acme", "models"); err != nil || z.GetVisibility() != pb.Visibility_VISIBILITY_PUBLIC {
		t.Errorf("GetZoo(acme, models) = %v, %v", z, err)
	}
	looker, ok := s.(interface {
		LookupZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error)
	})
	if !ok {
		t.Fatalf("%T has no LookupZoo", s)
	}
	if z, err := looker.LookupZoo(ctx, "beta", "lab"); err != nil || z.GetVisibility() != pb.Visibility_VISIBILITY_PRIVATE {
		t.Errorf("LookupZoo(beta, lab) = %v, %v", z, err)
	}
	tok := func(ws, id string) *pb.Token {
		t.Helper()
		rec, err := s.GetToken(ctx, ws, id)
		if err != nil {
			t.Fatalf("GetToken(%s, %s) = %v", ws, id, err)
		}
		return rec.GetToken()
	}
	if old, next := tok("acme", FixtureRolledOld), tok("acme", FixtureRolledNew); old.GetReplacedBy() != FixtureRolledNew || next.GetReplaces() != FixtureRolledOld {
		t.Errorf("rolled pair: replaced_by %q, replaces %q", old.GetReplacedBy(), next.GetReplaces())
	}
	if r := tok("acme", FixtureRevoked); r.GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_ADMIN {
		t.Errorf("revoked token: reason %v", r.GetRevokeReason())
	}
	if !tok("acme", FixtureDisabled).GetDisabled() {
		t.Error("disabled token is not disabled")
	}
	if u := tok("beta", FixtureUsed).GetLastUsedTime().AsTime(); !u.Equal(FixtureT0.Add(8 * time.Minute)) {
		t.Errorf("used token: last used %v", u)
	}
	if list, err := s.ListTokens(ctx, "acme", "", 0, true, FixtureT0.Add(10*time.Minute)); err != nil || len(list) != 6 {
		t.Errorf("ListTokens(acme) = %d tokens, %v; want 6", len(list), err)
	}
	rec, member, policy, err := s.LookupTokenWithPolicy(ctx, FixtureSecretHash(FixtureRolledNew))
	if err != nil || rec.GetToken().GetTokenId() != FixtureRolledNew || !member || policy.GetMaxLifetime() == nil {
		t.Errorf("LookupTokenWithPolicy(%s) = %v, member %v, policy %v, %v", FixtureRolledNew, rec.GetToken().GetTokenId(), member, policy, err)
	}
	checks, err := s.KeyChecks(ctx)
	if want := map[uint32][]byte{0: []byte("key-check-0"), 2: []byte("key-check-2")}; err != nil || !cmp.Equal(checks, want) {
		t.Errorf("KeyChecks = %v, %v; want %v", checks, err, want)
	}
	if seed, err := s.PickSeed(ctx, FixtureSeedHash, FixtureT0.Add(10*time.Minute), func(*storagepb.SeedRecord) error { return nil }); err != nil || seed.GetTokenId() != FixtureSeeded {
		t.Errorf("PickSeed = %v, %v; want the seed of %s", seed, err, FixtureSeeded)
	}
	res, err := s.VerifyAudit(ctx)
	if want := 18 - first; err != nil || !res.OK || res.Checked != want || res.Checkpoint != first-1 {
		t.Errorf("VerifyAudit = %+v, %v; want OK, %d checked from checkpoint %d", res, err, want, first-1)
	}
	evs, next, err := s.ListAuditEvents(ctx, audit.Filter{}, "", 0, 0)
	var seqs []uint64
	for _, ev := range evs {
		seqs = append(seqs, ev.GetSequence())
	}
	var want []uint64
	for seq := first; seq <= 17; seq++ {
		want = append(want, seq)
	}
	if err != nil || next != "" || !slices.Equal(seqs, want) {
		t.Errorf("ListAuditEvents = %v, next %q, %v; want %v", seqs, next, err, want)
	}
}
