package bbolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/storagetest"
)

// The fixture, testdata/schema2.db, was written by the old store at schema
// version 2; testdata/README.md lists what it holds. These are its facts.
const fixturePath = "testdata/schema2.db"

// fxRecords is how many records each old bucket of the fixture holds.
var fxRecords = map[string]int{
	"meta": 7, "workspaces": 2, "members": 3, "zoos": 3, "tokens": 7,
	"token_hashes": 7, "workspace_tokens": 7, "seeds": 1, "audit": 15,
}

// fxAuditT is the key time T of each audit event the fixture keeps
// (sequences 3 to 17; the sweep removed 1 and 2), as offsets from storagetest.FixtureT0:
// events 3 to 5 share a time, 6 and 7 too, and 8 is earlier than 7, so
// each takes the previous T plus 1ns.
var fxAuditT = map[uint64]time.Duration{
	3: -9 * time.Minute, 4: -9*time.Minute + 1, 5: -9*time.Minute + 2,
	6: -8 * time.Minute, 7: -8*time.Minute + 1, 8: -8*time.Minute + 2,
	9: 0, 10: time.Minute, 11: 2 * time.Minute, 12: 3 * time.Minute, 13: 4 * time.Minute,
	14: 5 * time.Minute, 15: 6 * time.Minute, 16: 7 * time.Minute, 17: 9 * time.Minute,
}

// fxEventTime is each kept audit event's own time, as an offset from storagetest.FixtureT0.
var fxEventTime = map[uint64]time.Duration{
	3: -9 * time.Minute, 4: -9 * time.Minute, 5: -9 * time.Minute,
	6: -8 * time.Minute, 7: -8 * time.Minute, 8: -9*time.Minute - 30*time.Second,
	9: 0, 10: time.Minute, 11: 2 * time.Minute, 12: 3 * time.Minute, 13: 4 * time.Minute,
	14: 5 * time.Minute, 15: 6 * time.Minute, 16: 7 * time.Minute, 17: 9 * time.Minute,
}

// keyTimes applies the rule T = max(own time, previous T + 1) to the
// fixture's events, the event damaged (0: none) counting as time 0.
func keyTimes(damaged uint64) map[uint64]time.Time {
	out := map[uint64]time.Time{}
	for seq := uint64(3); seq <= 17; seq++ {
		at := storagetest.FixtureT0.Add(fxEventTime[seq])
		if seq == damaged {
			at = time.Unix(0, 0)
		}
		if prev, ok := out[seq-1]; ok && !at.After(prev) {
			at = prev.Add(1)
		}
		out[seq] = at
	}
	return out
}

// oldBuckets are the old store's buckets, all gone after the migration but
// meta, which keeps only the schema guard.
var oldBuckets = []string{"workspaces", "members", "zoos", "tokens", "token_hashes", "workspace_tokens", "seeds", "audit"}

// copyFixture copies the fixture to a new temporary file.
func copyFixture(t testing.TB) string {
	t.Helper()
	return copyTo(t, fixturePath)
}

// rawBuckets reads every record of every top-level bucket of the file:
// bucket name -> key -> value. A nested bucket reads as a nil value.
func rawBuckets(t *testing.T, path string) map[string]map[string][]byte {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	out := map[string]map[string][]byte{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string][]byte{}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				m[string(k)] = bytes.Clone(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

// editRaw changes the file with bbolt directly, as a damaged or foreign
// file would be.
func editRaw(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatalf("edit %s: %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// kvDump reads every key of the engine.
func kvDump(t *testing.T, e *bbolt.Engine) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := e.View(t.Context(), func(tx storage.ReadTx) error {
		return tx.Range(nil, nil, 0, func(k, v []byte) error {
			out[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View = %v", err)
	}
	return out
}

// migrate opens path with OpenEngine, reads every key and closes it.
func migrate(t *testing.T, path string) map[string][]byte {
	t.Helper()
	e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngine = %v", err)
	}
	defer e.Close()
	rev, err := e.Revision(t.Context())
	if err != nil || rev != 0 {
		t.Errorf("Revision = %d, %v; want 0: the migration journals nothing", rev, err)
	}
	return kvDump(t, e)
}

// legacyAuditKey is the engine key of an audit event of the old store's chain,
// spelled out independently of migrate.go.
func legacyAuditKey(at time.Time, seq uint64) string {
	k := []byte("audit/")
	k = binary.BigEndian.AppendUint64(k, uint64(at.UnixNano()))
	k = append(k, 0x01, 0x00)
	return string(binary.BigEndian.AppendUint64(k, seq))
}

// wantKV maps the old store's records to the engine keys they must land at;
// auditT gives each audit event's key time by sequence.
func wantKV(t *testing.T, old map[string]map[string][]byte, auditT map[uint64]time.Time) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for _, b := range oldBuckets[:7] {
		for k, v := range old[b] {
			want[b+"/"+k] = v
		}
	}
	for k, v := range old["meta"] {
		switch {
		case k == "schema_version":
			want["meta/schema_version"] = []byte("3")
		case k == "count/tokens" || k == "count/workspaces":
		case k == "key_check" || strings.HasPrefix(k, "key_check/"):
			want["meta/"+k] = v
		case k == "audit_head" || k == "audit_checkpoint":
			want[k+"/\x01"] = v
		default:
			t.Fatalf("the fixture's meta holds %q, which this test does not know", k)
		}
	}
	for k, v := range old["audit"] {
		seq := binary.BigEndian.Uint64([]byte(k))
		at, ok := auditT[seq]
		if !ok {
			t.Fatalf("no key time given for audit event %d", seq)
		}
		want[legacyAuditKey(at, seq)] = v
	}
	return want
}

// fxAuditTimes is fxAuditT as times.
func fxAuditTimes() map[uint64]time.Time {
	out := map[uint64]time.Time{}
	for seq, d := range fxAuditT {
		out[seq] = storagetest.FixtureT0.Add(d)
	}
	return out
}

func TestMigrateSchema2(t *testing.T) {
	t.Parallel()
	path := copyFixture(t)
	old := rawBuckets(t, path)
	for b, n := range fxRecords {
		if len(old[b]) != n {
			t.Fatalf("fixture bucket %s holds %d records, testdata/README.md says %d", b, len(old[b]), n)
		}
	}

	got := migrate(t, path)
	if diff := cmp.Diff(wantKV(t, old, fxAuditTimes()), got); diff != "" {
		t.Errorf("engine keys after the migration (-want +got):\n%s", diff)
	}

	t.Run("records", func(t *testing.T) {
		t.Parallel()
		token := func(id string) *pb.Token {
			t.Helper()
			rec := &storagepb.TokenRecord{}
			if err := proto.Unmarshal(got["tokens/"+id], rec); err != nil {
				t.Fatalf("token %s: %v", id, err)
			}
			if rec.GetToken().GetTokenId() != id {
				t.Fatalf("record at tokens/%s has id %q", id, rec.GetToken().GetTokenId())
			}
			return rec.GetToken()
		}
		token(storagetest.FixturePlain)
		if old, next := token(storagetest.FixtureRolledOld), token(storagetest.FixtureRolledNew); old.GetReplacedBy() != storagetest.FixtureRolledNew || next.GetReplaces() != storagetest.FixtureRolledOld {
			t.Errorf("rolled pair: old.replaced_by %q, new.replaces %q", old.GetReplacedBy(), next.GetReplaces())
		} else if want := storagetest.FixtureT0.Add(2*time.Minute + time.Hour); !old.GetRevokeTime().AsTime().Equal(want) {
			t.Errorf("rolled old revoke_time %v, want %v (the grace)", old.GetRevokeTime().AsTime(), want)
		}
		if r := token(storagetest.FixtureRevoked); r.GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_ADMIN {
			t.Errorf("revoked token: reason %v", r.GetRevokeReason())
		}
		if !token(storagetest.FixtureDisabled).GetDisabled() {
			t.Errorf("disabled token is not disabled")
		}
		if u := token(storagetest.FixtureUsed).GetLastUsedTime().AsTime(); !u.Equal(storagetest.FixtureT0.Add(8 * time.Minute)) {
			t.Errorf("used token: last_used_time %v", u)
		}
		h := storagetest.FixtureSecretHash(storagetest.FixturePlain)
		if id := string(got["token_hashes/"+string(h[:])]); id != storagetest.FixturePlain {
			t.Errorf("token_hashes entry of %s holds %q", storagetest.FixturePlain, id)
		}
		if user := string(got["workspace_tokens/beta\x00"+storagetest.FixtureUsed]); user != "cy" {
			t.Errorf("workspace_tokens entry of %s holds %q", storagetest.FixtureUsed, user)
		}
		seed := &storagepb.SeedRecord{}
		if err := proto.Unmarshal(got["seeds/"+string(storagetest.FixtureSeedHash[:])], seed); err != nil || seed.GetTokenId() != storagetest.FixtureSeeded {
			t.Errorf("seed: %v, token %q, want %q", err, seed.GetTokenId(), storagetest.FixtureSeeded)
		}
		ws := &pb.Workspace{}
		if err := proto.Unmarshal(got["workspaces/acme"], ws); err != nil || ws.GetTokenPolicy().GetMaxLifetime() == nil {
			t.Errorf("workspace acme: %v, policy %v", err, ws.GetTokenPolicy())
		}
		for k, want := range map[string]string{"meta/key_check": "key-check-0", "meta/key_check/2": "key-check-2"} {
			if string(got[k]) != want {
				t.Errorf("%s = %q, want %q", k, got[k], want)
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		t.Parallel()
		head, cp := got["audit_head/\x01"], got["audit_checkpoint/\x01"]
		if len(head) != audit.CheckpointSize || binary.BigEndian.Uint64(head) != 17 {
			t.Fatalf("audit head %x, want sequence 17", head)
		}
		cpSeq, cpHash, err := audit.DecodeCheckpoint(cp)
		if err != nil || cpSeq != 2 {
			t.Fatalf("audit checkpoint %x: sequence %d, %v; want 2", cp, cpSeq, err)
		}
		// In key order the events run by sequence, with T strictly
		// increasing, and the chain verifies as the old store verified it.
		var v audit.Verifier
		v.Start(cpSeq, cpHash)
		var lastT uint64
		var seqs []uint64
		for _, k := range sortedKeys(got, "audit/") {
			tk := binary.BigEndian.Uint64([]byte(k[6:14]))
			if len(seqs) > 0 && tk <= lastT {
				t.Errorf("audit key %x: T %d not after %d", k, tk, lastT)
			}
			lastT = tk
			ev := &pb.AuditEvent{}
			if err := proto.Unmarshal(got[k], ev); err != nil {
				t.Fatalf("audit key %x: %v", k, err)
			}
			seqs = append(seqs, ev.GetSequence())
			v.Add(ev)
		}
		if want := []uint64{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}; !cmp.Equal(seqs, want) {
			t.Errorf("audit events in key order: %v, want %v", seqs, want)
		}
		if res := v.End(binary.BigEndian.Uint64(head), head[8:]); !res.OK || res.Checked != 15 {
			t.Errorf("chain check after migration = %+v, want OK with 15 events", res)
		}
		revoke := &pb.AuditEvent{}
		if err := proto.Unmarshal(got[legacyAuditKey(storagetest.FixtureT0.Add(4*time.Minute), 13)], revoke); err != nil ||
			!cmp.Equal(revoke.GetRevokedTokenIds(), []string{storagetest.FixtureRevoked}) {
			t.Errorf("event 13: %v, revoked ids %v; want [%s]", err, revoke.GetRevokedTokenIds(), storagetest.FixtureRevoked)
		}
	})

	t.Run("old buckets", func(t *testing.T) {
		t.Parallel()
		after := rawBuckets(t, path)
		for _, b := range oldBuckets {
			if _, ok := after[b]; ok {
				t.Errorf("bucket %s still exists", b)
			}
		}
		guard := map[string][]byte{"schema_version": binary.BigEndian.AppendUint64(nil, 3)}
		if diff := cmp.Diff(guard, after["meta"]); diff != "" {
			t.Errorf("bucket meta (-want +got):\n%s", diff)
		}
		if len(after["kvmeta"]) != 0 {
			t.Errorf("kvmeta %v; want empty", after["kvmeta"])
		}
		if len(after) != 3 {
			t.Errorf("buckets %v, want kv, kvmeta and meta", keysOf(after))
		}
	})
}

func sortedKeys[V any](m map[string]V, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out) // byte order, as the engine ranges
	return out
}

func keysOf[V any](m map[string]V) []string { return sortedKeys(m, "") }

// TestMigrateIsIdempotent: a second open of a migrated file changes no
// record.
func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	path := copyFixture(t)
	first := migrate(t, path)
	before := rawBuckets(t, path)
	second := migrate(t, path)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second open changed the keys (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(before, rawBuckets(t, path)); diff != "" {
		t.Errorf("second open changed the file (-before +after):\n%s", diff)
	}
}

// TestMigrateSchema1 migrates a schema 1 file (no count keys) to what the
// same data at schema 2 migrates to.
func TestMigrateSchema1(t *testing.T) {
	t.Parallel()
	want := migrate(t, copyFixture(t))
	path := copyFixture(t)
	editRaw(t, path, func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		return errors.Join(meta.Delete([]byte("count/tokens")), meta.Delete([]byte("count/workspaces")),
			meta.Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 1)))
	})
	if diff := cmp.Diff(want, migrate(t, path)); diff != "" {
		t.Errorf("schema 1 migration (-schema 2 +schema 1):\n%s", diff)
	}
}

// TestMigrateRefuses: a file the migration does not understand fails to
// open with an error naming what it met, and is left exactly as it was.
func TestMigrateRefuses(t *testing.T) {
	t.Parallel()
	put := func(bucket, key string, value []byte) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucket)).Put([]byte(key), value) }
	}
	tests := []struct {
		name string
		edit func(tx *bolt.Tx) error
		is   error  // the error wraps it, when set
		says string // the error names it
	}{
		{"schema 3", put("meta", "schema_version", binary.BigEndian.AppendUint64(nil, 3)), storage.ErrSchemaTooNew, "schema version 3"},
		{"schema 0", put("meta", "schema_version", binary.BigEndian.AppendUint64(nil, 0)), nil, "schema version 0"},
		{"short schema", put("meta", "schema_version", []byte{2}), nil, "1 bytes"},
		{"no schema", func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte("schema_version")) }, nil, "no schema_version"},
		{"unknown meta key", put("meta", "mystery", []byte("x")), nil, `"mystery"`},
		{"unknown bucket", func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("extra")); return err }, nil, `"extra"`},
		{"nested bucket", func(tx *bolt.Tx) error { _, err := tx.Bucket([]byte("zoos")).CreateBucket([]byte("inner")); return err }, nil, `"inner"`},
		{"short audit key", put("audit", "1234567", []byte("x")), nil, "31323334353637"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := copyFixture(t)
			editRaw(t, path, tt.edit)
			before := rawBuckets(t, path)
			e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{})
			if err == nil {
				_ = e.Close()
				t.Fatalf("OpenEngine succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("OpenEngine = %v, want it to wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("OpenEngine = %v, want it to name %s", err, tt.says)
			}
			if diff := cmp.Diff(before, rawBuckets(t, path)); diff != "" {
				t.Errorf("refused file changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestMigrateUndecodableAuditEvent: an audit event that cannot be decoded
// is kept byte for byte at its sequence, keyed 1ns after the event before
// it (at T 0 when it is the first), and the events after it keep their
// own times.
func TestMigrateUndecodableAuditEvent(t *testing.T) {
	t.Parallel()
	garbage := []byte{0xff, 0xff, 0xff}
	tests := []struct {
		name string
		seq  uint64
		t    time.Time // the damaged event's key time
	}{
		{"middle", 10, storagetest.FixtureT0.Add(1)}, // after event 9 at storagetest.FixtureT0
		{"after a bump", 6, storagetest.FixtureT0.Add(-9*time.Minute + 3)},
		{"first", 3, time.Unix(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := copyFixture(t)
			editRaw(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("audit")).Put(binary.BigEndian.AppendUint64(nil, tt.seq), garbage)
			})
			if err := proto.Unmarshal(garbage, &pb.AuditEvent{}); err == nil {
				t.Fatal("the damaged value decodes")
			}
			old := rawBuckets(t, path)
			times := keyTimes(tt.seq)
			if !times[tt.seq].Equal(tt.t) {
				t.Fatalf("the rule puts event %d at %v, the case says %v", tt.seq, times[tt.seq], tt.t)
			}
			got := migrate(t, path)
			if diff := cmp.Diff(wantKV(t, old, times), got); diff != "" {
				t.Errorf("engine keys (-want +got):\n%s", diff)
			}
			if v := got[legacyAuditKey(tt.t, tt.seq)]; !bytes.Equal(v, garbage) {
				t.Errorf("damaged event %d: %x at its key, want %x", tt.seq, v, garbage)
			}
		})
	}
}

// TestMigratedFileOpensAsStore opens the fixture with Open, the embedded
// store of this build: it migrates the file, serves every old record, and
// takes new writes, whose audit events go in their workspaces' chains
// beside the migrated one; a second open finds it all again.
func TestMigratedFileOpensAsStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := copyFixture(t)
	if err := bbolt.VerifyFile(path); err != nil {
		t.Fatalf("VerifyFile of the schema 2 file = %v", err)
	}
	s := openMigratedStore(t, path)
	storagetest.CheckMigrated(t, s, 3)

	// New writes on the migrated data, each audited.
	withEvent := func(action, target string, at time.Time) context.Context {
		ctx, _ := audit.NewContext(ctx, &pb.AuditEvent{Time: timestamppb.New(at), Actor: "admin", Action: action, WorkspaceId: "acme", Target: target})
		return ctx
	}
	at := storagetest.FixtureT0.Add(time.Hour)
	next := &storagepb.TokenRecord{
		Token:      &pb.Token{TokenId: "01jnqx00000000000000000r03", WorkspaceId: "acme", UserId: "ann", MaskedKey: "ta_…r03", CreateTime: timestamppb.New(at)},
		SecretHash: bytes.Repeat([]byte{3}, 32), SealedSecret: []byte("sealed-r03"),
	}
	if _, _, err := s.RollToken(withEvent("token.roll", storagetest.FixtureRolledNew, at), storage.Roll{WorkspaceID: "acme", OldID: storagetest.FixtureRolledNew, Next: next}); err != nil {
		t.Fatalf("RollToken(%s) = %v", storagetest.FixtureRolledNew, err)
	}
	if _, err := s.RevokeToken(withEvent("token.revoke", storagetest.FixturePlain, at), "acme", storagetest.FixturePlain, at, pb.RevokeReason_REVOKE_REASON_USER); err != nil {
		t.Fatalf("RevokeToken(%s) = %v", storagetest.FixturePlain, err)
	}
	if _, err := s.RecordUses(ctx, map[string]time.Time{storagetest.FixtureUsed: at}); err != nil {
		t.Fatalf("RecordUses = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	s = openMigratedStore(t, path)
	res, err := s.VerifyAudit(ctx)
	if err != nil || !res.OK || res.Checked != 17 {
		t.Errorf("VerifyAudit after new writes = %+v, %v; want OK, 17 events checked", res, err)
	}
	if rec, err := s.GetToken(ctx, "acme", storagetest.FixtureRolledNew); err != nil || rec.GetToken().GetReplacedBy() != next.Token.TokenId {
		t.Errorf("GetToken(%s) after its roll = replaced_by %q, %v", storagetest.FixtureRolledNew, rec.GetToken().GetReplacedBy(), err)
	}
	if rec, err := s.GetToken(ctx, "beta", storagetest.FixtureUsed); err != nil || !rec.GetToken().GetLastUsedTime().AsTime().Equal(at) {
		t.Errorf("GetToken(%s) after a use = last used %v, %v; want %v", storagetest.FixtureUsed, rec.GetToken().GetLastUsedTime().AsTime(), err, at)
	}
	if tokens, workspaces, err := s.Counts(ctx); err != nil || tokens != 8 || workspaces != 2 {
		t.Errorf("Counts = %d, %d, %v; want 8 tokens, 2 workspaces", tokens, workspaces, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := bbolt.VerifyFile(path); err != nil {
		t.Errorf("VerifyFile of the migrated file = %v", err)
	}
}

func openMigratedStore(t *testing.T, path string) *bbolt.Store {
	t.Helper()
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
