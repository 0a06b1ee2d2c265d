package core_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/core"
	"tokenauthority/storage/etcd"
)

// onEachEngine runs test, in parallel, on a fresh Store over a fresh
// engine of each kind.
func onEachEngine(t *testing.T, test func(t *testing.T, e storage.Engine, s *core.Store)) {
	for _, k := range engineCases(t) {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			e, _ := k.open(t, storage.EngineLimits{})
			test(t, e, openCore(t, e, k.opts))
		})
	}
}

// putRaw stores value under key directly through the engine, in a
// transaction of its own: the records a test needs, whatever the limits.
func putRaw(t testing.TB, e storage.Engine, key string, value any) {
	t.Helper()
	v, ok := value.([]byte)
	if m, isMsg := value.(proto.Message); isMsg {
		var err error
		if v, err = proto.Marshal(m); err != nil {
			t.Fatal(err)
		}
		ok = true
	}
	if !ok {
		t.Fatalf("putRaw of a %T", value)
	}
	if _, err := e.Update(context.Background(), func(tx storage.Tx) error { return tx.Put([]byte(key), v) }); err != nil {
		t.Fatalf("Put(%q) = %v", key, err)
	}
}

// getRaw reads key directly from the engine; nil when absent.
func getRaw(t testing.TB, e storage.Engine, key string) []byte {
	t.Helper()
	var out []byte
	err := e.View(context.Background(), func(tx storage.ReadTx) error {
		v, err := tx.Get([]byte(key))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		out = append([]byte(nil), v...)
		return err
	})
	if err != nil {
		t.Fatalf("Get(%q) = %v", key, err)
	}
	return out
}

// countRaw counts the engine's keys under prefix.
func countRaw(t testing.TB, e storage.Engine, prefix string) int {
	t.Helper()
	n := 0
	err := e.View(context.Background(), func(tx storage.ReadTx) error {
		return storage.RangePrefix(tx, []byte(prefix), 0, func(_, _ []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatalf("Range(%q) = %v", prefix, err)
	}
	return n
}

var at = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// rawToken is a token record of workspace acme, revealable when sealed is
// not empty.
func rawToken(id, sealed string) *storagepb.TokenRecord {
	h := sha256.Sum256([]byte("secret-" + id))
	rec := &storagepb.TokenRecord{
		Token:      &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(at)},
		SecretHash: h[:],
	}
	if sealed != "" {
		rec.SealedSecret = []byte(sealed)
	}
	return rec
}

// seedKey is the key of the seed string's parked record.
func seedKey(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return "seeds/" + string(h[:])
}

// TestAddWhileRemovalPending: while the clean-up marker of a removed
// member (RemoveMember) or of a deleted workspace (DeleteWorkspace)
// stands, adding that member or workspace again is refused as unavailable
// (retry later) and writes nothing, others are added, and once the marker
// is gone it is added.
func TestAddWhileRemovalPending(t *testing.T) {
	t.Parallel()
	addMember := func(user string) func(context.Context, *core.Store) error {
		return func(ctx context.Context, s *core.Store) error {
			return s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: user})
		}
	}
	createWorkspace := func(id string) func(context.Context, *core.Store) error {
		return func(ctx context.Context, s *core.Store) error {
			return s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: id})
		}
	}
	tests := []struct {
		name string
		// marker is the clean-up marker's key: cleanup/member/<ws> 0x00
		// <user>, cleanup/workspace/<ws>.
		marker       string
		add, another func(context.Context, *core.Store) error
		// exists tells whether add wrote anything.
		exists func(context.Context, *core.Store) error
	}{
		{"member", "cleanup/member/acme\x00ann", addMember("ann"), addMember("bob"),
			func(ctx context.Context, s *core.Store) error { _, err := s.GetMember(ctx, "acme", "ann"); return err }},
		{"workspace", "cleanup/workspace/beta", createWorkspace("beta"), createWorkspace("gamma"),
			func(ctx context.Context, s *core.Store) error { _, err := s.GetWorkspace(ctx, "beta"); return err }},
	}
	onEachEngine(t, func(t *testing.T, e storage.Engine, s *core.Store) {
		ctx := context.Background()
		if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme"}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				putRaw(t, e, tt.marker, []byte("pending"))
				err := tt.add(ctx, s)
				if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "still being finished") {
					t.Fatalf("add while the marker stands = %v; want ErrUnavailable saying the removal is being finished", err)
				}
				if err := tt.exists(ctx, s); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("after the refusal: %v; want ErrNotFound", err)
				}
				if err := tt.another(ctx, s); err != nil {
					t.Errorf("another add while the marker stands = %v", err)
				}
				if _, err := e.Update(ctx, func(tx storage.Tx) error { return tx.Delete([]byte(tt.marker)) }); err != nil {
					t.Fatal(err)
				}
				if err := tt.add(ctx, s); err != nil {
					t.Fatalf("add once the removal is finished = %v", err)
				}
			})
		}
	})
}

// small limits make a purge or a re-seal of a handful of records take
// several commits: a seed purged is 2 deletes (the seed and its token's
// link to it), a record re-sealed a read and a write, and a commit holds
// half the limits.
var small = storage.EngineLimits{MaxOps: 4, MaxReads: 4}

// TestPurgeExpiredSeedsWithinLimits: a purge of more expired seeds than
// one transaction of the engine takes splits into commits within the
// engine's limits and deletes only the expired ones.
func TestPurgeExpiredSeedsWithinLimits(t *testing.T) {
	t.Parallel()
	for _, k := range engineCases(t) {
		tests := []struct {
			name        string
			limits      storage.EngineLimits
			wantCommits int64
		}{
			{"small limits", small, 5}, // a seed is 2 deletes: 1 a commit
			{"default limits", storage.EngineLimits{}, 1},
		}
		for _, tt := range tests {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				e, _ := k.open(t, tt.limits)
				var commits atomic.Int64
				opts := k.opts
				opts.OnCommit = func(int) { commits.Add(1) }
				s := openCore(t, e, opts)
				for i := range 7 {
					rec := &storagepb.SeedRecord{TokenId: fmt.Sprintf("%02d", i), SealedSecret: []byte("sealed")}
					switch {
					case i < 5:
						rec.ExpireTime = timestamppb.New(at.Add(-time.Duration(i) * time.Second))
					case i == 5:
						rec.ExpireTime = timestamppb.New(at.Add(time.Second))
					} // 6 never expires
					putRaw(t, e, seedKey(fmt.Sprint("seed-", i)), rec)
					putRaw(t, e, "seed_of/"+rec.TokenId, []byte(seedKey(fmt.Sprint("seed-", i)))[len("seeds/"):])
				}
				n, err := s.PurgeExpiredSeeds(ctx, at)
				if err != nil || n != 5 {
					t.Fatalf("PurgeExpiredSeeds = %d, %v; want 5", n, err)
				}
				if got := commits.Load(); got != tt.wantCommits {
					t.Errorf("PurgeExpiredSeeds took %d commits; want %d", got, tt.wantCommits)
				}
				for _, prefix := range []string{"seeds/", "seed_of/"} {
					if got := countRaw(t, e, prefix); got != 2 {
						t.Errorf("%d keys %s* left; want the 2 of the seeds not expired", got, prefix)
					}
				}
				if n, err := s.PurgeExpiredSeeds(ctx, at); err != nil || n != 0 {
					t.Errorf("second PurgeExpiredSeeds = %d, %v; want 0", n, err)
				}
			})
		}
	}
}

// TestResealWithinLimits: Reseal rewrites every sealed secret (parked
// seeds and revealable tokens, not hash-only tokens) in commits within the
// engine's limits, and leaves alone a record changed between its read and
// its commit.
func TestResealWithinLimits(t *testing.T) {
	t.Parallel()
	for _, k := range engineCases(t) {
		tests := []struct {
			name   string
			limits storage.EngineLimits
			// seeds and tokens are 2 and 5 (and a hash-only one):
			// commits of 2 records make 1 + 3.
			wantCommits int
		}{
			{"small limits", small, 4},
			{"default limits", storage.EngineLimits{}, 2},
		}
		for _, tt := range tests {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				e, _ := k.open(t, tt.limits)
				s := openCore(t, e, k.opts)
				for _, id := range []string{"01", "02", "03", "04", "05"} {
					putRaw(t, e, "tokens/"+id, rawToken(id, "sealed-"+id))
				}
				putRaw(t, e, "tokens/06", rawToken("06", ""))
				for _, seed := range []string{"seed-a", "seed-b"} {
					putRaw(t, e, seedKey(seed), &storagepb.SeedRecord{TokenId: "01", SealedSecret: []byte("sealed-" + seed)})
				}
				var afterCommit []core.ResealProgress
				p, err := s.Reseal(ctx, core.ResealOptions{AfterCommit: func(p core.ResealProgress) {
					afterCommit = append(afterCommit, p)
				}}, func(sealed, aad []byte) ([]byte, error) {
					if string(aad) == "02" {
						// Changed by another writer after the read.
						putRaw(t, e, "tokens/02", rawToken("02", "rewritten"))
					}
					return append([]byte("new:"), sealed...), nil
				})
				if err != nil {
					t.Fatalf("Reseal = %v", err)
				}
				want := core.ResealProgress{Sealed: 7, Resealed: 6, Changed: 1, Commits: tt.wantCommits}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("Reseal progress (-want +got):\n%s", diff)
				}
				if len(afterCommit) != tt.wantCommits || afterCommit[len(afterCommit)-1] != p {
					t.Errorf("AfterCommit saw %v; want %d calls ending with %v", afterCommit, tt.wantCommits, p)
				}
				got := map[string]string{}
				err = s.ForEachSealed(ctx, func(sealed, aad []byte) error {
					got[string(aad)] = string(sealed)
					return nil
				})
				if err != nil {
					t.Fatalf("ForEachSealed = %v", err)
				}
				ha, hb := sha256.Sum256([]byte("seed-a")), sha256.Sum256([]byte("seed-b"))
				wantSealed := map[string]string{
					string(ha[:]): "new:sealed-seed-a", string(hb[:]): "new:sealed-seed-b",
					"01": "new:sealed-01", "02": "rewritten", "03": "new:sealed-03", "04": "new:sealed-04", "05": "new:sealed-05",
				}
				if diff := cmp.Diff(wantSealed, got); diff != "" {
					t.Errorf("sealed secrets after Reseal (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestKeyChecks: the key check values live under the keys a migrated
// file carries (key 0's at meta/key_check, key n's at meta/key_check/<n>),
// a migrated one is not replaced, an empty value is refused, and each can
// be deleted.
func TestKeyChecks(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e storage.Engine, s *core.Store) {
		ctx := context.Background()
		if got, err := s.KeyChecks(ctx); err != nil || len(got) != 0 {
			t.Errorf("KeyChecks of a new store = %v, %v; want none", got, err)
		}
		want := map[uint32][]byte{0: []byte("zero"), 1: []byte("one"), 12: []byte("twelve"), 4294967295: []byte("max")}
		if err := s.SetKeyChecks(ctx, want); err != nil {
			t.Fatal(err)
		}
		for key, v := range map[string]string{"meta/key_check": "zero", "meta/key_check/12": "twelve", "meta/key_check/4294967295": "max"} {
			if got := getRaw(t, e, key); string(got) != v {
				t.Errorf("engine key %q = %q; want %q", key, got, v)
			}
		}
		putRaw(t, e, "meta/key_check/7", []byte("seven, migrated"))
		want[7] = []byte("seven, migrated")
		// A migrated value counts as stored: it is not replaced.
		if err := s.SetKeyChecks(ctx, map[uint32][]byte{7: []byte("new seven")}); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Errorf("SetKeyChecks(7 again) = %v; want ErrAlreadyExists", err)
		}
		if err := s.SetKeyChecks(ctx, map[uint32][]byte{0: nil}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("SetKeyChecks(empty) = %v; want ErrInvalid", err)
		}
		got, err := s.KeyChecks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KeyChecks (-want +got):\n%s", diff)
		}
		for _, id := range []uint32{0, 12} {
			if err := s.DeleteKeyCheck(ctx, id); err != nil {
				t.Fatal(err)
			}
			delete(want, id)
		}
		if got, err = s.KeyChecks(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KeyChecks after deleting 0 and 12 (-want +got):\n%s", diff)
		}
	})
}

// TestSealedSample finds a sealed secret wherever the store keeps one: a
// parked seed first, else a revealable token among hash-only ones.
func TestSealedSample(t *testing.T) {
	t.Parallel()
	onEachEngine(t, func(t *testing.T, e storage.Engine, s *core.Store) {
		ctx := context.Background()
		h := sha256.Sum256([]byte("seed-03"))
		steps := []struct {
			name    string
			key     string
			rec     proto.Message
			want    storage.Sealed
			wantErr error
		}{
			{"empty store", "", nil, storage.Sealed{}, storage.ErrNotFound},
			{"hash-only token", "tokens/01", rawToken("01", ""), storage.Sealed{}, storage.ErrNotFound},
			{"revealable token", "tokens/02", rawToken("02", "sealed-02"), storage.Sealed{Value: []byte("sealed-02"), AAD: []byte("02")}, nil},
			{"parked seed", seedKey("seed-03"), &storagepb.SeedRecord{TokenId: "02", SealedSecret: []byte("sealed-seed")},
				storage.Sealed{Value: []byte("sealed-seed"), AAD: h[:]}, nil},
		}
		for _, st := range steps {
			if st.rec != nil {
				putRaw(t, e, st.key, st.rec)
			}
			got, err := s.SealedSample(ctx)
			if !errors.Is(err, st.wantErr) || st.wantErr == nil && err != nil {
				t.Fatalf("%s: SealedSample = %v; want %v", st.name, err, st.wantErr)
			}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("%s: SealedSample (-want +got):\n%s", st.name, diff)
			}
		}
	})
}

// TestPickSeedOnce: replicas (three Stores over one etcd prefix; one
// bbolt Store, which is one process's) picking one seed at once hand it
// out exactly once.
func TestPickSeedOnce(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Start(t, etcdtest.Options{Members: 1}).Client(t)
	cases := []struct {
		name string
		// open returns the engines of the replicas, on the same data.
		open func(t *testing.T) []storage.Engine
		opts core.Options
	}{
		{"bbolt", func(t *testing.T) []storage.Engine {
			e, err := bbolt.OpenEngine(filepath.Join(t.TempDir(), "kv.db"), bbolt.EngineOptions{})
			if err != nil {
				t.Fatalf("OpenEngine = %v", err)
			}
			return []storage.Engine{e}
		}, core.Options{}},
		{"etcd", func(t *testing.T) []storage.Engine {
			var out []storage.Engine
			for range 3 {
				out = append(out, etcd.NewEngine(cli, etcd.EngineOptions{Prefix: "/pick/"}))
			}
			return out
		}, core.Options{MaxStaleness: 2 * time.Second, MissReads: 200}},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			engines := k.open(t)
			putRaw(t, engines[0], "tokens/01", rawToken("01", "sealed-01"))
			want := &storagepb.SeedRecord{TokenId: "01", SealedSecret: []byte("sealed-seed"), ExpireTime: timestamppb.New(at.Add(time.Minute))}
			putRaw(t, engines[0], seedKey("seed-01"), want)
			putRaw(t, engines[0], "seed_of/01", []byte(seedKey("seed-01"))[len("seeds/"):])
			var stores []*core.Store
			for _, e := range engines {
				stores = append(stores, openCore(t, e, k.opts))
			}
			const pickers = 12
			var won, lost atomic.Int64
			errs := make(chan error, pickers)
			for i := range pickers {
				go func() {
					got, err := stores[i%len(stores)].PickSeed(ctx, sha256.Sum256([]byte("seed-01")), at, func(*storagepb.SeedRecord) error { return nil })
					switch {
					case err == nil && proto.Equal(got, want):
						won.Add(1)
					case errors.Is(err, storage.ErrNotFound):
						lost.Add(1)
						err = nil
					default:
						err = fmt.Errorf("PickSeed = %v, %v", got, err)
					}
					errs <- err
				}()
			}
			for range pickers {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if won.Load() != 1 || lost.Load() != pickers-1 {
				t.Errorf("%d picks won, %d lost; want 1 and %d", won.Load(), lost.Load(), pickers-1)
			}
			for _, prefix := range []string{"seeds/", "seed_of/"} {
				if got := countRaw(t, engines[0], prefix); got != 0 {
					t.Errorf("%d keys %s* left after the pick; want none", got, prefix)
				}
			}
		})
	}
}
