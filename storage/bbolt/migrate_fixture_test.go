package bbolt_test

// This file writes testdata/schema2.db with the Store (schema version 2).
// It goes when the Store goes: the fixture stays, and migrate_test.go
// needs nothing from here. Regenerate with
//
//	go test ./storage/bbolt -run TestMigrateFixture -update-fixture
//
// and update testdata/README.md if the facts it lists change.

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

var updateFixture = flag.Bool("update-fixture", false, "rewrite testdata/schema2.db with the Store")

// TestMigrateFixture writes the fixture into a temporary file and checks
// that testdata/schema2.db holds exactly the same records (bbolt's page
// layout may differ); with -update-fixture it replaces the fixture.
func TestMigrateFixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schema2.db")
	writeSchema2Fixture(t, path)
	if *updateFixture {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixturePath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Parallel()
	if diff := cmp.Diff(rawBuckets(t, fixturePath), rawBuckets(t, path)); diff != "" {
		t.Errorf("the fixture (-) differs from what the Store writes (+):\n%s", diff)
	}
}

// writeSchema2Fixture fills a new Store at path; every time is fixed, so
// the records are the same on every run.
func writeSchema2Fixture(t *testing.T, path string) {
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}()
	base := context.Background()
	at := func(d time.Duration) time.Time { return fxT0.Add(d) }
	// ev returns ctx carrying one event, and a check that it was recorded.
	ev := func(action, ws, target string, when time.Time) (context.Context, *audit.Pending) {
		return audit.NewContext(base, &pb.AuditEvent{
			Time: timestamppb.New(when), Actor: "admin", Action: action,
			WorkspaceId: ws, Target: target, ClientAddress: "192.0.2.1:4000",
		})
	}
	must := func(what string, p *audit.Pending, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s = %v", what, err)
		}
		if p != nil && p.Recorded() == nil {
			t.Fatalf("%s recorded no audit event", what)
		}
	}

	// Events 1 and 2 share a time; both go in the audit sweep below.
	ctx, p := ev("workspace.create", "acme", "acme", at(-10*time.Minute))
	must("create acme", p, s.CreateWorkspace(ctx, &pb.Workspace{
		WorkspaceId: "acme", DisplayName: "Acme", CreateTime: timestamppb.New(at(-10 * time.Minute)),
		TokenPolicy: &pb.TokenPolicy{MaxLifetime: durationpb.New(90 * 24 * time.Hour), DefaultLifetime: durationpb.New(30 * 24 * time.Hour)},
	}))
	ctx, p = ev("workspace.create", "beta", "beta", at(-10*time.Minute))
	must("create beta", p, s.CreateWorkspace(ctx, &pb.Workspace{
		WorkspaceId: "beta", DisplayName: "Beta", CreateTime: timestamppb.New(at(-10 * time.Minute)),
	}))
	// Events 3 to 5 share a time.
	for _, m := range [][2]string{{"acme", "ann"}, {"acme", "bob"}, {"beta", "cy"}} {
		ctx, p = ev("member.add", m[0], m[1], at(-9*time.Minute))
		must("add member "+m[1], p, s.AddMember(ctx, &pb.Member{WorkspaceId: m[0], UserId: m[1], CreateTime: timestamppb.New(at(-9 * time.Minute))}))
	}
	// Event 8 is earlier than event 7: a clock that went back.
	for _, z := range []struct {
		ws, zoo string
		v       pb.Visibility
		when    time.Time
	}{
		{"acme", "models", pb.Visibility_VISIBILITY_PUBLIC, at(-8 * time.Minute)},
		{"acme", "vault", pb.Visibility_VISIBILITY_PRIVATE, at(-8 * time.Minute)},
		{"beta", "lab", pb.Visibility_VISIBILITY_PRIVATE, at(-9*time.Minute - 30*time.Second)},
	} {
		ctx, p = ev("zoo.create", z.ws, z.zoo, z.when)
		must("create zoo "+z.zoo, p, s.CreateZoo(ctx, &pb.Zoo{WorkspaceId: z.ws, ZooId: z.zoo, Visibility: z.v, CreateTime: timestamppb.New(z.when)}))
	}

	create := func(id, ws, user string, when time.Time, seed *storage.SeedPark) {
		t.Helper()
		ctx, p := ev("token.create", ws, id, when)
		if seed != nil {
			p.MarkCreatedForSeed()
		}
		must("create token "+id, p, s.CreateToken(ctx, fixtureToken(id, ws, user, when), seed))
	}
	create(fxPlain, "acme", "ann", at(0), nil)
	create(fxRolledOld, "acme", "ann", at(time.Minute), nil)
	ctx, p = ev("token.roll", "acme", fxRolledOld, at(2*time.Minute))
	_, _, err = s.RollToken(ctx, storage.Roll{WorkspaceID: "acme", OldID: fxRolledOld, Next: fixtureToken(fxRolledNew, "acme", "ann", at(2*time.Minute)), Grace: time.Hour})
	must("roll", p, err)
	create(fxRevoked, "acme", "bob", at(3*time.Minute), nil)
	ctx, p = ev("token.revoke", "acme", fxRevoked, at(4*time.Minute))
	_, err = s.RevokeToken(ctx, "acme", fxRevoked, at(4*time.Minute), pb.RevokeReason_REVOKE_REASON_ADMIN)
	must("revoke", p, err)
	if ids := p.Recorded().GetRevokedTokenIds(); len(ids) != 1 || ids[0] != fxRevoked {
		t.Fatalf("revoke event names %v, want [%s]", ids, fxRevoked)
	}
	create(fxDisabled, "acme", "ann", at(5*time.Minute), nil)
	ctx, p = ev("token.update", "acme", fxDisabled, at(6*time.Minute))
	_, err = s.UpdateToken(ctx, "acme", fxDisabled, at(6*time.Minute), func(tok *pb.Token, _ *pb.TokenPolicy) error {
		tok.Disabled = true
		return nil
	})
	must("disable", p, err)
	create(fxUsed, "beta", "cy", at(7*time.Minute), nil)
	n, err := s.RecordUses(base, map[string]time.Time{fxUsed: at(8 * time.Minute)})
	must("record uses", nil, err)
	if n != 1 {
		t.Fatalf("RecordUses changed %d records, want 1", n)
	}
	create(fxSeeded, "acme", "ann", at(9*time.Minute), &storage.SeedPark{
		Hash:   fxSeedHash,
		Record: &storagepb.SeedRecord{TokenId: fxSeeded, SealedSecret: []byte("sealed-seed-" + fxSeeded), ExpireTime: timestamppb.New(at(19 * time.Minute))},
	})

	must("key checks", nil, s.SetKeyChecks(base, map[uint32][]byte{0: []byte("key-check-0"), 2: []byte("key-check-2")}))
	// Removes events 1 and 2 (before the cutoff), leaving a checkpoint.
	removed, err := s.SweepAudit(base, at(-9*time.Minute-45*time.Second), 0)
	must("sweep audit", nil, err)
	if removed != 2 {
		t.Fatalf("SweepAudit removed %d events, want 2", removed)
	}
	res, err := s.VerifyAudit(base)
	must("verify audit", nil, err)
	if !res.OK || res.Checkpoint != 2 || res.Checked != 15 {
		t.Fatalf("VerifyAudit = %+v, want OK from checkpoint 2, 15 events checked", res)
	}
}

// fixtureToken is the record of a new token of the fixture.
func fixtureToken(id, ws, user string, created time.Time) *storagepb.TokenRecord {
	h := fixtureSecretHash(id)
	return &storagepb.TokenRecord{
		Token: &pb.Token{
			TokenId: id, WorkspaceId: ws, UserId: user, Description: "token " + id,
			MaskedKey: "ta_…" + id[len(id)-4:], CreateTime: timestamppb.New(created),
		},
		SecretHash:   h[:],
		SealedSecret: []byte("sealed-" + id),
	}
}

// TestMigratedFileRefusedByStore: the Store, an older build, refuses a
// migrated file and a new engine file (schema guard in bucket meta) rather
// than start an empty store beside the data.
func TestMigratedFileRefusedByStore(t *testing.T) {
	t.Parallel()
	for name, path := range map[string]string{
		"migrated": copyFixture(t),
		"new":      filepath.Join(t.TempDir(), "new.db"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{})
			if err != nil {
				t.Fatalf("OpenEngine = %v", err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := bbolt.Open(path, bbolt.Options{})
			if err == nil {
				_ = s.Close()
				t.Fatal("the Store opened an engine file")
			}
			if !errors.Is(err, storage.ErrSchemaTooNew) {
				t.Errorf("Store Open = %v, want ErrSchemaTooNew", err)
			}
		})
	}
}
