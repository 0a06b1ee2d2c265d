package etcd_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/etcd"
	"tokenauthority/storage/storagetest"
)

// The fixtures of the first etcd layout (testdata/README.md) and the first
// audit event each keeps.
var layout1Fixtures = []struct {
	file  string
	first uint64
}{
	{"layout1-v0.1.0.json", 1},  // the release: no audit sweep yet
	{"layout1-97144d1.json", 3}, // main before the core: events 1 and 2 swept
}

// migrationPrefixes numbers the prefixes of the migration tests.
var migrationPrefixes atomic.Int64

func newPrefix() string { return fmt.Sprintf("/migrate/%d/", migrationPrefixes.Add(1)) }

// rawKeys reads every key under prefix, without it.
func rawKeys(t *testing.T, cli *clientv3.Client, prefix string) map[string][]byte {
	t.Helper()
	resp, err := cli.Get(t.Context(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("read %s: %v", prefix, err)
	}
	out := map[string][]byte{}
	for _, kv := range resp.Kvs {
		out[strings.TrimPrefix(string(kv.Key), prefix)] = kv.Value
	}
	return out
}

// wantMigrated maps a prefix of the first layout to the keys and values
// the migration must leave, spelled out apart from migrate.go.
func wantMigrated(t *testing.T, old map[string][]byte) map[string][]byte {
	t.Helper()
	unhex := func(s string) string {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("fixture hash %q: %v", s, err)
		}
		return string(b)
	}
	renames := map[string]string{"ws/": "workspaces/", "member/": "members/", "zoo/": "zoos/", "token/": "tokens/", "wstoken/": "workspace_tokens/"}
	want := map[string][]byte{"schema_version": []byte("3"), "meta/schema_version": []byte("3")}
	var prevT time.Time
	for seq := uint64(1); seq <= 17; seq++ {
		v, ok := old[fmt.Sprintf("audit/%020d", seq)]
		if !ok {
			continue
		}
		ev := &pb.AuditEvent{}
		if err := proto.Unmarshal(v, ev); err != nil {
			t.Fatalf("fixture event %d: %v", seq, err)
		}
		at := ev.GetTime().AsTime()
		if !prevT.IsZero() && !at.After(prevT) {
			at = prevT.Add(1)
		}
		prevT = at
		k := binary.BigEndian.AppendUint64([]byte("audit/"), uint64(at.UnixNano()))
		want[string(binary.BigEndian.AppendUint64(append(k, 0x01, 0x00), seq))] = v
	}
	for k, v := range old {
		family, rest, _ := strings.Cut(k, "/")
		switch {
		case k == "schema_version" || family == "audit" && rest != "":
		case k == "audit_head" || k == "audit_checkpoint":
			want[k+"/\x01"] = v
		case k == "key_check/0":
			want["meta/key_check"] = v
		case family == "key_check":
			want["meta/"+k] = v
		case renames[family+"/"] != "":
			want[renames[family+"/"]+rest] = v
		case family == "hash":
			want["token_hashes/"+unhex(rest)] = v
		case family == "seed":
			want["seeds/"+unhex(rest)] = v
		case family == "seedtok":
			want["seed_of/"+rest] = []byte(unhex(string(v)))
		default:
			t.Fatalf("fixture key %q is unknown to this test", k)
		}
	}
	return want
}

func openMigrated(t *testing.T, ctx context.Context, cli *clientv3.Client, prefix string, limits storage.EngineLimits) (*etcd.Store, error) {
	t.Helper()
	s, err := etcd.OpenClient(ctx, cli, etcd.Options{Prefix: prefix, Limits: limits, WriteTimeout: 30 * time.Second})
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// TestMigrateLayout1 opens each fixture of the first layout: every key
// lands where the mapping says, the store serves every record, takes new
// audited writes beside the migrated chain, and a second open moves nothing.
func TestMigrateLayout1(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	for _, fx := range layout1Fixtures {
		t.Run(fx.file, func(t *testing.T) {
			t.Parallel()
			prefix := newPrefix()
			loadLayout1(t, cli, prefix, fx.file)
			want := wantMigrated(t, rawKeys(t, cli, prefix))
			s, err := openMigrated(t, t.Context(), cli, prefix, storage.EngineLimits{})
			if err != nil {
				t.Fatalf("OpenClient = %v", err)
			}
			if diff := cmp.Diff(want, rawKeys(t, cli, prefix)); diff != "" {
				t.Fatalf("keys after the migration (-want +got):\n%s", diff)
			}
			storagetest.CheckMigrated(t, s, fx.first)

			at := storagetest.FixtureT0.Add(time.Hour)
			ctx, _ := audit.NewContext(t.Context(), &pb.AuditEvent{Time: timestamppb.New(at), Actor: "admin", Action: "token.revoke", WorkspaceId: "acme", Target: storagetest.FixturePlain})
			if _, err := s.RevokeToken(ctx, "acme", storagetest.FixturePlain, at, pb.RevokeReason_REVOKE_REASON_USER); err != nil {
				t.Fatalf("RevokeToken = %v", err)
			}
			if rec, _, err := s.LookupToken(t.Context(), storagetest.FixtureSecretHash(storagetest.FixturePlain)); err != nil || rec.GetToken().GetRevokeTime() == nil {
				t.Errorf("LookupToken of the revoked token = %v, %v; want it revoked", rec, err)
			}
			if _, err := s.RecordUses(t.Context(), map[string]time.Time{storagetest.FixtureUsed: at}); err != nil {
				t.Fatalf("RecordUses = %v", err)
			}
			// A replica whose scan comes after this one finished finds
			// nothing to do, though keys of the core's own (an event of the
			// acme chain, a use) are there now.
			if done, err := etcd.ScanLayout1(t.Context(), etcd.NewEngine(cli, etcd.EngineOptions{Prefix: prefix})); err != nil || !done {
				t.Errorf("a late scan = done %v, %v; want done", done, err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
			before := rawKeys(t, cli, prefix)
			s, err = openMigrated(t, t.Context(), cli, prefix, storage.EngineLimits{})
			if err != nil {
				t.Fatalf("second OpenClient = %v", err)
			}
			if diff := cmp.Diff(before, rawKeys(t, cli, prefix)); diff != "" {
				t.Errorf("a second open changed keys (-before +after):\n%s", diff)
			}
			if res, err := s.VerifyAudit(t.Context()); err != nil || !res.OK || res.Checked != 19-fx.first {
				t.Errorf("VerifyAudit after a new event = %+v, %v; want OK, %d checked", res, err, 19-fx.first)
			}
		})
	}
}

// tinyLimits make a migration take one key a transaction.
var tinyLimits = storage.EngineLimits{MaxOps: 6, MaxReads: 16}

// TestMigrateLayout1Interrupted stops a migration after n transactions, as
// a crash would, then opens the prefix again: the old release is refused
// from the first transaction on, and the second open finishes the move
// with the same result as one that was never stopped.
func TestMigrateLayout1Interrupted(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	stop := errors.New("stopped")
	// At one key a transaction the fixture takes 60 transactions: the
	// guard, a key each and one more per segment (ten), the last.
	for _, n := range []int{1, 2, 9, 20, 30, 40, 45} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			prefix := newPrefix()
			loadLayout1(t, cli, prefix, "layout1-97144d1.json")
			want := wantMigrated(t, rawKeys(t, cli, prefix))
			var done atomic.Int64
			ctx := etcd.WithMigrationHook(t.Context(), func() error {
				if done.Add(1) > int64(n) {
					return stop
				}
				return nil
			})
			if _, err := openMigrated(t, ctx, cli, prefix, tinyLimits); !errors.Is(err, stop) {
				t.Fatalf("OpenClient stopped after %d transactions = %v; want %v", n, err, stop)
			}
			if v := rawKeys(t, cli, prefix)["schema_version"]; string(v) != "3" {
				t.Errorf("schema_version after a stopped migration = %q; want 3, which the old release refuses", v)
			}
			s, err := openMigrated(t, t.Context(), cli, prefix, storage.EngineLimits{})
			if err != nil {
				t.Fatalf("OpenClient after the stop = %v", err)
			}
			if diff := cmp.Diff(want, rawKeys(t, cli, prefix)); diff != "" {
				t.Fatalf("keys after a resumed migration (-want +got):\n%s", diff)
			}
			storagetest.CheckMigrated(t, s, 3)
		})
	}
}

// TestMigrateLayout1Together starts three replicas on one prefix of the
// first layout at once: their transactions conflict, and all open the
// same migrated store.
func TestMigrateLayout1Together(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	prefix := newPrefix()
	loadLayout1(t, cli, prefix, "layout1-v0.1.0.json")
	want := wantMigrated(t, rawKeys(t, cli, prefix))
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = openMigrated(t, t.Context(), cli, prefix, tinyLimits)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: OpenClient = %v", i, err)
		}
	}
	if diff := cmp.Diff(want, rawKeys(t, cli, prefix)); diff != "" {
		t.Fatalf("keys after three migrations at once (-want +got):\n%s", diff)
	}
}

// TestMigrateLayout1Refuses: a prefix this build cannot move whole is
// refused with ErrInvalid, naming the key, and left as it was.
func TestMigrateLayout1Refuses(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	tests := []struct {
		name      string
		key, val  string
		wantInErr string
	}{
		{"unknown key", "events/1", "x", `"events/1": unknown to this build`},
		{"unknown key, shown whole", "events/\x00x", "x", `"events/\x00x": unknown to this build`},
		{"unfinished clean-up", "cleanup/member/acme\x00ann", "", "left a change unfinished"},
		{"unfinished audit continuation", "cleanup/audit/0123", "", "left a change unfinished"},
		{"hash not hex", "hash/zz", "01jnqx00000000000000000pa1", "not a hex SHA-256"},
		{"short hash, not named", "hash/abcd", "01jnqx00000000000000000pa1", `"hash/…": not a hex SHA-256 (4 bytes)`},
		{"seed pointer not hex", "seedtok/01jnqx00000000000000000pa1", "nothex", "not a hex SHA-256"},
		{"key check id", "key_check/x1", "v", "not a key id"},
		{"key check id with a leading zero", "key_check/02", "v", "not a key id"},
		{"schema version", "schema_version", "2", `schema version "2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := newPrefix()
			loadLayout1(t, cli, prefix, "layout1-v0.1.0.json")
			if _, err := cli.Put(t.Context(), prefix+tt.key, tt.val); err != nil {
				t.Fatal(err)
			}
			before := rawKeys(t, cli, prefix)
			_, err := openMigrated(t, t.Context(), cli, prefix, storage.EngineLimits{})
			if !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("OpenClient = %v; want ErrInvalid naming %q", err, tt.wantInErr)
			}
			if diff := cmp.Diff(before, rawKeys(t, cli, prefix)); diff != "" {
				t.Errorf("a refused migration changed keys (-before +after):\n%s", diff)
			}
		})
	}
}
