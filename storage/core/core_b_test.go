package core_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
	"tokenauthority/storage/core"
	"tokenauthority/storage/storagetest"
)

// bSmall are limits far below any engine's, so that a few hundred tokens
// take many transactions.
var bSmall = storage.EngineLimits{MaxOps: 16, MaxReads: 16}

var bT0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// TestSmallLimitsConformance runs the conformance suite with limits that
// split every bulk change into many transactions.
func TestSmallLimitsConformance(t *testing.T) {
	for _, k := range engineCases(t) {
		t.Run(k.name, func(t *testing.T) {
			storagetest.RunTests(t, func(tb testing.TB) storage.Backend {
				t := tb.(*testing.T)
				e, _ := k.open(t, bSmall)
				return openCore(t, e, k.opts)
			})
		})
	}
}

func bHash(id string) [32]byte { return sha256.Sum256([]byte("secret-" + id)) }

func bRec(ws, user, id string) *storagepb.TokenRecord {
	h := bHash(id)
	return &storagepb.TokenRecord{
		Token:      &pb.Token{TokenId: id, WorkspaceId: ws, UserId: user, CreateTime: timestamppb.New(bT0)},
		SecretHash: h[:], SealedSecret: []byte("sealed-" + id),
	}
}

// bFill creates workspace ws with members users and n tokens of each,
// ids <ws>-<user>0000..., and returns them by user.
func bFill(t *testing.T, s *core.Store, ws string, n int, users ...string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: ws, CreateTime: timestamppb.New(bT0)}); err != nil {
		t.Fatalf("CreateWorkspace = %v", err)
	}
	ids := map[string][]string{}
	for _, u := range users {
		if err := s.AddMember(ctx, &pb.Member{WorkspaceId: ws, UserId: u}); err != nil {
			t.Fatalf("AddMember = %v", err)
		}
		for i := range n {
			ids[u] = append(ids[u], fmt.Sprintf("%s-%s%04d", ws, u, i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					if err := s.CreateToken(ctx, bRec(ws, u, ids[u][i]), nil); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("CreateToken = %v", err)
		}
	}
	return ids
}

// bValid reports whether validation accepts the token at now.
func bValid(t *testing.T, s *core.Store, id string, now time.Time) bool {
	t.Helper()
	rec, member, _, err := s.LookupTokenWithPolicy(context.Background(), bHash(id))
	if errors.Is(err, storage.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("LookupTokenWithPolicy(%s) = %v", id, err)
	}
	return member && !lifecycle.RevokedBy(rec.GetToken(), now)
}

// bRaw reads the engine's keys under prefix.
func bRaw(t *testing.T, e storage.Engine, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := e.View(context.Background(), func(tx storage.ReadTx) error {
		return storage.RangePrefix(tx, []byte(prefix), 0, func(k, v []byte) error {
			out[string(k)] = slices.Clone(v)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View = %v", err)
	}
	return out
}

// bChange is a change of many tokens: it ends every token of victims
// (those of "ann"), reporting how many it revoked (-1: not counted).
type bChange struct {
	name string
	do   func(ctx context.Context, s *core.Store, ann []string) (int, error)
	// event says the change records an event naming the tokens it revokes.
	event bool
}

var bChanges = []bChange{
	{"RevokeTokens", func(ctx context.Context, s *core.Store, ann []string) (int, error) {
		recs, err := s.RevokeTokens(ctx, "acme", ann, bT0, pb.RevokeReason_REVOKE_REASON_ADMIN)
		return len(recs), err
	}, true},
	{"RevokeUserTokens", func(ctx context.Context, s *core.Store, _ []string) (int, error) {
		recs, err := s.RevokeUserTokens(ctx, "acme", "ann", bT0, pb.RevokeReason_REVOKE_REASON_USER)
		return len(recs), err
	}, true},
	{"RevokeLeaked", func(ctx context.Context, s *core.Store, ann []string) (int, error) {
		hashes := make([][32]byte, len(ann))
		for i, id := range ann {
			hashes[i] = bHash(id)
		}
		recs, err := s.RevokeLeaked(ctx, hashes, bT0)
		return len(recs), err
	}, true},
	{"RemoveMember", func(ctx context.Context, s *core.Store, _ []string) (int, error) {
		return s.RemoveMember(ctx, "acme", "ann", bT0)
	}, true},
	{"DeleteWorkspace", func(ctx context.Context, s *core.Store, _ []string) (int, error) {
		return -1, s.DeleteWorkspace(ctx, "acme", true)
	}, false},
}

// bEachChange runs test on each engine kind for each change, in parallel.
func bEachChange(t *testing.T, test func(t *testing.T, k engineCase, c bChange)) {
	for _, k := range engineCases(t) {
		t.Run(k.name, func(t *testing.T) {
			for _, c := range bChanges {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					test(t, k, c)
				})
			}
		})
	}
}

// TestSplitChanges: revocations, a member's removal and a workspace's
// deletion of 300 tokens, far past one transaction, all land before the
// call returns; no marker is left; the audit event names every token.
func TestSplitChanges(t *testing.T) {
	const n = 300
	bEachChange(t, func(t *testing.T, k engineCase, c bChange) {
		e, _ := k.open(t, bSmall)
		opts := k.opts
		opts.IDsPerEvent = 100
		s := openCore(t, e, opts)
		ids := bFill(t, s, "acme", n, "ann")
		other := bFill(t, s, "beta", 3, "ann")["ann"]
		ctx, _ := audit.NewContext(context.Background(), &pb.AuditEvent{
			Time: timestamppb.New(bT0), Actor: "admin", Action: "test." + c.name, WorkspaceId: "acme",
		})
		got, err := c.do(ctx, s, ids["ann"])
		if err != nil {
			t.Fatalf("%s = %v", c.name, err)
		}
		if got != -1 && got != n {
			t.Errorf("%s revoked %d tokens; want %d", c.name, got, n)
		}
		for _, id := range ids["ann"] {
			if bValid(t, s, id, bT0) {
				t.Fatalf("token %s validates after %s returned", id, c.name)
			}
		}
		for _, id := range other {
			if !bValid(t, s, id, bT0) {
				t.Errorf("token %s of another workspace stopped validating", id)
			}
		}
		if left := bRaw(t, e, "cleanup/"); len(left) > 0 {
			t.Errorf("markers left: %d", len(left))
		}
		if !c.event {
			return
		}
		evs, _, err := s.ListAuditEvents(context.Background(), audit.Filter{}, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var named []string
		for _, ev := range evs {
			if ev.GetAction() != "test."+c.name {
				t.Errorf("event %q besides the change's", ev.GetAction())
			}
			named = append(named, ev.GetRevokedTokenIds()...)
		}
		slices.Sort(named)
		if !slices.Equal(named, ids["ann"]) {
			t.Errorf("events name %d tokens (in %d events); want the %d revoked", len(named), len(evs), n)
		}
	})
}

// bCrashMidChange runs c on n tokens of ann, stopped before its chunk 2
// as by a crash, and checks it left its marker and that none of ann's
// tokens validates or rolls.
func bCrashMidChange(t *testing.T, k engineCase, c bChange, n int) (e storage.Engine, reopen func() storage.Engine, s *core.Store, ann []string) {
	t.Helper()
	e, reopen = k.open(t, bSmall)
	s = openCore(t, e, k.opts)
	ann = bFill(t, s, "acme", n, "ann")["ann"]
	stop := errors.New("crash")
	ctx := core.WithChunkHook(context.Background(), func(chunk int) error {
		if chunk == 2 {
			return stop
		}
		return nil
	})
	if _, err := c.do(ctx, s, ann); !errors.Is(err, stop) {
		t.Fatalf("%s stopped at chunk 2 = %v; want the crash", c.name, err)
	}
	if left := bRaw(t, e, "cleanup/"); len(left) != 1 {
		t.Fatalf("%d markers after the crash; want 1", len(left))
	}
	// The decision took effect for validation when it was made, though
	// most of its tokens' records are not revoked yet.
	for _, id := range ann {
		if bValid(t, s, id, bT0) {
			t.Fatalf("token %s validates while %s is unfinished", id, c.name)
		}
	}
	if _, _, err := s.RollToken(context.Background(), storage.Roll{OldID: ann[n-1], Next: bRec("acme", "ann", "rolled")}); err == nil {
		t.Fatalf("rolling token %s while %s is unfinished succeeded", ann[n-1], c.name)
	}
	if strings.HasPrefix(c.name, "Revoke") {
		// Reads show the decision too.
		live, err := s.ListTokens(context.Background(), "acme", "", 0, false, bT0)
		if err != nil || len(live) != 0 {
			t.Fatalf("ListTokens while %s is unfinished = %d tokens, %v; want none", c.name, len(live), err)
		}
		rec, err := s.GetToken(context.Background(), "acme", ann[n-1])
		if err != nil || !lifecycle.RevokedBy(rec.GetToken(), bT0) {
			t.Fatalf("GetToken(%s) while %s is unfinished = %v, %v; want it revoked", ann[n-1], c.name, rec.GetToken(), err)
		}
	}
	return e, reopen, s, ann
}

// TestSplitChangeFinishedByOpen: a change stopped between its chunks, as
// by a crash, leaves its marker; the next Open finishes it.
func TestSplitChangeFinishedByOpen(t *testing.T) {
	bEachChange(t, func(t *testing.T, k engineCase, c bChange) {
		e, reopen, s, ann := bCrashMidChange(t, k, c, 100)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		e = reopen()
		s = openCore(t, e, k.opts)
		if left := bRaw(t, e, "cleanup/"); len(left) != 0 {
			t.Errorf("%d markers after Open; want none", len(left))
		}
		for _, id := range ann {
			if bValid(t, s, id, bT0) {
				t.Fatalf("token %s validates after Open finished %s", id, c.name)
			}
		}
		if c.name == "DeleteWorkspace" {
			if rest := bRaw(t, e, "workspace_tokens/"); len(rest) != 0 {
				t.Errorf("%d workspace entries left", len(rest))
			}
			return
		}
		for _, id := range ann {
			rec, err := s.GetToken(context.Background(), "acme", id)
			if err != nil {
				t.Fatal(err)
			}
			if !lifecycle.RevokedBy(rec.GetToken(), bT0) {
				t.Fatalf("token %s not revoked after Open", id)
			}
		}
	})
}

// TestSplitChangeFinishedByFinishStale: a change stopped between its
// chunks, its process going on (another replica, on a shared engine), is
// finished by FinishStale at its second call that finds the marker.
func TestSplitChangeFinishedByFinishStale(t *testing.T) {
	bEachChange(t, func(t *testing.T, k engineCase, c bChange) {
		e, _, s, ann := bCrashMidChange(t, k, c, 100)
		for i, want := range []int{0, 1, 0} {
			got, err := s.FinishStale(context.Background())
			if err != nil || got != want {
				t.Fatalf("FinishStale call %d = %d, %v; want %d", i+1, got, err, want)
			}
			if left, wantLeft := bRaw(t, e, "cleanup/"), 1-min(i, 1); len(left) != wantLeft {
				t.Fatalf("%d markers after FinishStale call %d; want %d", len(left), i+1, wantLeft)
			}
		}
		for _, id := range ann {
			if bValid(t, s, id, bT0) {
				t.Fatalf("token %s validates after FinishStale finished %s", id, c.name)
			}
		}
	})
}

// TestRecordUsesWritesUsedKeys: uses are small keys of their own; token
// records stay as they were, and reads show the later of the two times.
func TestRecordUsesWritesUsedKeys(t *testing.T) {
	for _, k := range engineCases(t) {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e, _ := k.open(t, bSmall)
			s := openCore(t, e, k.opts)
			ids := bFill(t, s, "acme", 40, "ann")["ann"]
			before := bRaw(t, e, "tokens/")
			uses := map[string]time.Time{"gone": bT0}
			for i, id := range ids {
				uses[id] = bT0.Add(time.Duration(i+1) * time.Minute)
			}
			n, err := s.RecordUses(ctx, uses)
			if err != nil || n != len(ids) {
				t.Fatalf("RecordUses = %d, %v; want %d", n, err, len(ids))
			}
			after := bRaw(t, e, "tokens/")
			for key, v := range before {
				if !slices.Equal(after[key], v) {
					t.Errorf("record %s rewritten by RecordUses", key)
				}
			}
			usedKeys := bRaw(t, e, "used/")
			if len(usedKeys) != len(ids) {
				t.Errorf("%d used keys; want %d (none for an unknown token)", len(usedKeys), len(ids))
			}
			for i, id := range ids {
				v := usedKeys["used/"+id]
				if want := bT0.Add(time.Duration(i+1) * time.Minute); len(v) != 8 || int64(binary.BigEndian.Uint64(v)) != want.UnixNano() {
					t.Errorf("used/%s = %x; want %v as 8-byte nanoseconds", id, v, want)
				}
			}
			// An older use is skipped.
			if n, err := s.RecordUses(ctx, map[string]time.Time{ids[0]: bT0}); err != nil || n != 0 {
				t.Errorf("RecordUses(older) = %d, %v; want 0", n, err)
			}
			// A record's own time (a migrated one) counts when later.
			own := bRec("acme", "ann", ids[1])
			own.Token.LastUsedTime = timestamppb.New(bT0.Add(time.Hour))
			bPut(t, e, "tokens/"+ids[1], own)
			for _, tt := range []struct {
				id   string
				want time.Time
			}{{ids[0], bT0.Add(time.Minute)}, {ids[1], bT0.Add(time.Hour)}, {ids[2], bT0.Add(3 * time.Minute)}} {
				rec, err := s.GetToken(ctx, "acme", tt.id)
				if err != nil {
					t.Fatal(err)
				}
				if got := rec.GetToken().GetLastUsedTime().AsTime(); !got.Equal(tt.want) {
					t.Errorf("GetToken(%s) last used %v; want %v", tt.id, got, tt.want)
				}
			}
			list, err := s.ListTokens(ctx, "acme", "", 0, true, bT0)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range list {
				if rec.GetToken().GetLastUsedTime() == nil {
					t.Errorf("ListTokens: %s without its last use", rec.GetToken().GetTokenId())
				}
			}
			// Uses of a deleted token go with it.
			if err := s.DeleteWorkspace(ctx, "acme", true); err != nil {
				t.Fatal(err)
			}
			if left := bRaw(t, e, "used/"); len(left) != 0 {
				t.Errorf("%d used keys left after the tokens were deleted", len(left))
			}
		})
	}
}

// bPut writes a record straight to the engine.
func bPut(t *testing.T, e storage.Engine, key string, m proto.Message) {
	t.Helper()
	v, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Update(context.Background(), func(tx storage.Tx) error { return tx.Put([]byte(key), v) }); err != nil {
		t.Fatalf("Update = %v", err)
	}
}

// TestRejectionAfterWrite: a closure that rejects after it wrote fails
// with its error and none of its writes lands, while writes queued beside
// it commit.
func TestRejectionAfterWrite(t *testing.T) {
	for _, k := range engineCases(t) {
		t.Run(k.name, func(t *testing.T) {
			e, _ := k.open(t, storage.EngineLimits{})
			s := openCore(t, e, k.opts)
			refused := errors.New("refused after writing")
			var wg sync.WaitGroup
			errs := make([]error, 64)
			for i := range errs {
				wg.Go(func() {
					if i%2 == 0 {
						errs[i] = core.PutThen(context.Background(), s, fmt.Appendf(nil, "test/good/%02d", i), nil)
					} else {
						errs[i] = core.PutThen(context.Background(), s, fmt.Appendf(nil, "test/bad/%02d", i), refused)
					}
				})
			}
			wg.Wait()
			for i, err := range errs {
				if i%2 == 0 && err != nil {
					t.Errorf("write %d = %v; want nil", i, err)
				}
				if i%2 == 1 && !errors.Is(err, refused) {
					t.Errorf("write %d = %v; want its rejection", i, err)
				}
			}
			if bad := bRaw(t, e, "test/bad/"); len(bad) != 0 {
				t.Errorf("%d writes of rejected closures landed", len(bad))
			}
			if good := bRaw(t, e, "test/good/"); len(good) != len(errs)/2 {
				t.Errorf("%d writes beside them landed; want %d", len(good), len(errs)/2)
			}
		})
	}
}

// TestRevocationPastOneDecision: a revocation whose marker and events
// outgrow one transaction is decided in parts; every token is revoked, no
// marker is left, the events name each token once and the log verifies.
func TestRevocationPastOneDecision(t *testing.T) {
	const n = 300
	for _, k := range engineCases(t) {
		t.Run(k.name, func(t *testing.T) {
			// 8 KiB: the decision of 300 ids of 12 bytes (about 10 KiB) in parts.
			e, _ := k.open(t, storage.EngineLimits{MaxOps: 16, MaxReads: 16, MaxBytes: 8 << 10})
			opts := k.opts
			opts.IDsPerEvent = 40
			s := openCore(t, e, opts)
			ids := bFill(t, s, "acme", n, "ann")["ann"]
			ctx, _ := audit.NewContext(context.Background(), &pb.AuditEvent{
				Time: timestamppb.New(bT0), Actor: "admin", Action: "test.revoke", WorkspaceId: "acme",
			})
			got, err := s.RevokeUserTokens(ctx, "acme", "ann", bT0, pb.RevokeReason_REVOKE_REASON_LEAKED)
			if err != nil {
				t.Fatalf("RevokeUserTokens = %v", err)
			}
			if len(got) != n {
				t.Errorf("RevokeUserTokens revoked %d tokens; want %d", len(got), n)
			}
			for _, id := range ids {
				if bValid(t, s, id, bT0) {
					t.Fatalf("token %s validates after the revocation", id)
				}
			}
			if left := bRaw(t, e, "cleanup/"); len(left) > 0 {
				t.Errorf("markers left: %d", len(left))
			}
			evs, _, err := s.ListAuditEvents(context.Background(), audit.Filter{}, "", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var named []string
			for _, ev := range evs {
				if ev.GetAction() != "test.revoke" || ev.GetActor() != "admin" {
					t.Errorf("event %q by %q besides the revocation's", ev.GetAction(), ev.GetActor())
				}
				named = append(named, ev.GetRevokedTokenIds()...)
			}
			slices.Sort(named)
			if !slices.Equal(named, ids) {
				t.Errorf("%d events name %d tokens; want each of the %d revoked once", len(evs), len(named), n)
			}
			if res, err := s.VerifyAudit(context.Background()); err != nil || !res.OK {
				t.Errorf("VerifyAudit = %+v, %v; want OK", res, err)
			}
		})
	}
}
