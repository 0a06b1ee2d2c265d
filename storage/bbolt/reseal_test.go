package bbolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/seal"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// Fixed keys, so that a re-executed child seals under the same ring.
var (
	resealKey0 = bytes.Repeat([]byte{0x10}, seal.KeySize)
	resealKey1 = bytes.Repeat([]byte{0x11}, seal.KeySize)
)

func testRing(t testing.TB, keys map[uint32][]byte) *seal.Ring {
	t.Helper()
	r, err := seal.NewRing(keys)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tokenPlain and seedPlain are the secrets sealed in the fixture.
func tokenPlain(id string) string { return "tka_secret_of_" + id }
func seedPlain(id string) string  { return "tka_seed_secret_of_" + id }

// fillSealed stores tokens tok000000.. in workspace acme, every one sealed
// under ring except every fifth (hashes only), and parks a seed with every
// tenth. Writers run concurrently so that commits are shared.
func fillSealed(t testing.TB, s *bbolt.Store, ring *seal.Ring, tokens int) (sealed int) {
	t.Helper()
	addWorkspace(t, s, "acme", "ann")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < tokens; i += 8 {
				id := fmt.Sprintf("tok%06d", i)
				rec := tokenRec("acme", "ann", id)
				rec.SealedSecret = nil
				if i%5 != 0 {
					v, err := ring.Seal([]byte(tokenPlain(id)), []byte(id))
					if err != nil {
						errs <- err
						return
					}
					rec.SealedSecret = v
				}
				var seed *storage.SeedPark
				if i%10 == 1 {
					h := hashOf("seed-" + id)
					v, err := ring.Seal([]byte(seedPlain(id)), h[:])
					if err != nil {
						errs <- err
						return
					}
					seed = &storage.SeedPark{Hash: h, Record: &storagepb.SeedRecord{TokenId: id, SealedSecret: v}}
				}
				if err := s.CreateToken(context.Background(), rec, seed); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range tokens {
		if i%5 != 0 {
			sealed++
		}
		if i%10 == 1 {
			sealed++
		}
	}
	return sealed
}

// checkSealed opens every secret of the fixture with ring, compares it
// with what was sealed, and counts them by key.
func checkSealed(t *testing.T, s *bbolt.Store, ring *seal.Ring, tokens int) map[uint32]int {
	t.Helper()
	ctx := context.Background()
	byKey := map[uint32]int{}
	for i := range tokens {
		id := fmt.Sprintf("tok%06d", i)
		rec, err := s.GetToken(ctx, "acme", id)
		if err != nil {
			t.Fatalf("GetToken(%s) = %v", id, err)
		}
		if i%5 == 0 {
			if rec.GetSealedSecret() != nil {
				t.Errorf("token %s kept hashes only, but now has a sealed secret", id)
			}
			continue
		}
		got, err := ring.Open(rec.GetSealedSecret(), []byte(id))
		if err != nil {
			t.Fatalf("token %s: Open() = %v", id, err)
		}
		if string(got) != tokenPlain(id) {
			t.Fatalf("token %s: opened %q, want %q", id, got, tokenPlain(id))
		}
		kid, err := ring.KeyOf(rec.GetSealedSecret(), []byte(id))
		if err != nil {
			t.Fatal(err)
		}
		byKey[kid]++
	}
	seeds := 0
	err := s.ForEachSealed(ctx, func(sealed, aad []byte) error {
		if len(aad) != 32 {
			return nil // a token's, checked above
		}
		seeds++
		p, err := ring.Open(sealed, aad)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if !strings.HasPrefix(string(p), seedPlain("")) {
			return fmt.Errorf("seed opened to an unexpected value")
		}
		kid, err := ring.KeyOf(sealed, aad)
		byKey[kid]++
		return err
	})
	if err != nil {
		t.Fatalf("ForEachSealed() = %v", err)
	}
	if want := (tokens + 8) / 10; seeds != want {
		t.Errorf("ForEachSealed() visited %d seeds, want %d", seeds, want)
	}
	return byKey
}

// TestResealRewritesEverySecret: every token's and seed's sealed secret is
// re-sealed under the newest key in commits of at most Batch records, the
// file then opens with a ring without the old key, and a second run has
// nothing to do.
func TestResealRewritesEverySecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const tokens = 130
	want := fillSealed(t, s, testRing(t, map[uint32][]byte{0: resealKey0}), tokens)
	rotated := testRing(t, map[uint32][]byte{0: resealKey0, 1: resealKey1})

	const batch = 7
	var last bbolt.ResealProgress
	p, err := s.Reseal(ctx, bbolt.ResealOptions{Batch: batch, AfterCommit: func(p bbolt.ResealProgress) {
		if n := p.Resealed - last.Resealed; n < 1 || n > batch {
			t.Errorf("a commit re-sealed %d secrets, want 1 to %d", n, batch)
		}
		last = p
	}}, rotated.Reseal)
	if err != nil {
		t.Fatalf("Reseal() = %v", err)
	}
	if p.Sealed != want || p.Resealed != want || p.Changed != 0 {
		t.Errorf("Reseal() = %+v, want %d sealed and re-sealed", p, want)
	}
	if p != last {
		t.Errorf("Reseal() = %+v, but the last AfterCommit saw %+v", p, last)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path, bbolt.Options{})
	newOnly := testRing(t, map[uint32][]byte{1: resealKey1})
	byKey := checkSealed(t, s, newOnly, tokens)
	if byKey[1] != want || len(byKey) != 1 {
		t.Errorf("after Reseal, secrets by key = %v, want all %d under key 1", byKey, want)
	}
	again, err := s.Reseal(ctx, bbolt.ResealOptions{Batch: batch}, rotated.Reseal)
	if err != nil {
		t.Fatalf("second Reseal() = %v", err)
	}
	if again.Sealed != want || again.Resealed != 0 || again.Commits != 0 {
		t.Errorf("second Reseal() = %+v, want %d visited and nothing written", again, want)
	}
}

// TestResealKeepsConcurrentWrites: a record written between Reseal's read
// and its commit keeps that write; Reseal counts it as changed and a
// later run re-seals it.
func TestResealKeepsConcurrentWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	fillSealed(t, s, testRing(t, map[uint32][]byte{0: resealKey0}), 10)
	rotated := testRing(t, map[uint32][]byte{0: resealKey0, 1: resealKey1})
	const victim = "tok000003"
	p, err := s.Reseal(ctx, bbolt.ResealOptions{}, func(sealed, aad []byte) ([]byte, error) {
		if string(aad) == victim {
			if _, err := s.RevokeToken(ctx, "acme", victim, t0, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
				return nil, err
			}
		}
		return rotated.Reseal(sealed, aad)
	})
	if err != nil {
		t.Fatalf("Reseal() = %v", err)
	}
	if p.Changed != 1 {
		t.Errorf("Reseal() = %+v, want 1 changed", p)
	}
	rec, err := s.GetToken(ctx, "acme", victim)
	if err != nil {
		t.Fatal(err)
	}
	if rec.GetToken().GetRevokeTime() == nil {
		t.Error("the revoke written during Reseal was lost")
	}
	if id, err := rotated.KeyOf(rec.GetSealedSecret(), []byte(victim)); err != nil || id != 0 {
		t.Errorf("the changed record is under key %d (%v), want still 0", id, err)
	}
	if p, err := s.Reseal(ctx, bbolt.ResealOptions{}, rotated.Reseal); err != nil || p.Resealed != 1 {
		t.Errorf("second Reseal() = %+v, %v; want the changed record re-sealed", p, err)
	}
}

// TestResealStopsOnError: an error from the callback stops Reseal before
// the batch is written.
func TestResealStopsOnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	want := fillSealed(t, s, testRing(t, map[uint32][]byte{0: resealKey0}), 20)
	wrong := testRing(t, map[uint32][]byte{5: bytes.Repeat([]byte{0x55}, seal.KeySize)})
	p, err := s.Reseal(ctx, bbolt.ResealOptions{Batch: 4}, wrong.Reseal)
	if !errors.Is(err, seal.ErrUnknownKey) {
		t.Fatalf("Reseal() under a ring without the key = %v, want ErrUnknownKey", err)
	}
	if p.Resealed != 0 {
		t.Errorf("Reseal() = %+v, want nothing written", p)
	}
	byKey := checkSealed(t, s, testRing(t, map[uint32][]byte{0: resealKey0}), 20)
	if byKey[0] != want {
		t.Errorf("secrets by key = %v, want all %d still under key 0", byKey, want)
	}
}

// resealChildEnv, when set to a file path, turns TestResealSurvivesKill into
// the child that re-seals that file until it is killed.
const resealChildEnv = "TOKENAUTHORITY_STORAGE_RESEAL_CHILD"

// TestResealSurvivesKill kills a process with SIGKILL in the middle of a
// reseal: afterwards every secret opens with the rotated ring, some under
// each key, and a second reseal finishes the job.
func TestResealSurvivesKill(t *testing.T) {
	if teststack.AsChild(t, resealChildEnv, resealChild) {
		return
	}
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reseal.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const tokens = 2000
	want := fillSealed(t, s, testRing(t, map[uint32][]byte{0: resealKey0}), tokens)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	const killAfter = 10
	acked := 0
	var lines []string
	teststack.KillChild(t, "TestResealSurvivesKill", resealChildEnv, path, func(line string) bool {
		n, ok := strings.CutPrefix(line, "resealed ")
		if !ok {
			lines = append(lines, line)
			return false
		}
		if _, err := fmt.Sscan(n, &acked); err != nil {
			t.Fatal(err)
		}
		return acked >= killAfter*resealChildBatch
	})
	if acked < killAfter*resealChildBatch {
		t.Fatalf("child acknowledged %d re-sealed secrets before exiting; output: %q", acked, lines)
	}

	s = openAt(t, path, bbolt.Options{})
	rotated := testRing(t, map[uint32][]byte{0: resealKey0, 1: resealKey1})
	byKey := checkSealed(t, s, rotated, tokens)
	t.Logf("after SIGKILL: %d secrets under key 1 (%d acknowledged), %d still under key 0", byKey[1], acked, byKey[0])
	if byKey[1] < acked || byKey[0]+byKey[1] != want {
		t.Errorf("secrets by key = %v, want %d in all and at least the %d acknowledged under key 1", byKey, want, acked)
	}
	if byKey[0] == 0 {
		t.Errorf("the child finished before the kill; the test did not interrupt a reseal")
	}
	if _, err := s.Reseal(ctx, bbolt.ResealOptions{}, rotated.Reseal); err != nil {
		t.Fatalf("Reseal() after the kill = %v", err)
	}
	byKey = checkSealed(t, s, testRing(t, map[uint32][]byte{1: resealKey1}), tokens)
	if byKey[1] != want {
		t.Errorf("after finishing, secrets by key = %v, want all %d under key 1", byKey, want)
	}
}

const resealChildBatch = 10

// resealChild re-seals the file under the rotated ring in small batches,
// printing the running total after each commit, slowed a little so that
// the parent's kill lands in the middle.
func resealChild(path string) {
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	ring, err := seal.NewRing(map[uint32][]byte{0: resealKey0, 1: resealKey1})
	if err != nil {
		fmt.Println("ring:", err)
		os.Exit(2)
	}
	_, err = s.Reseal(context.Background(), bbolt.ResealOptions{Batch: resealChildBatch, AfterCommit: func(p bbolt.ResealProgress) {
		fmt.Printf("resealed %d\n", p.Resealed)
		// Deliberately slow: the parent must be able to kill mid-reseal.
		time.Sleep(2 * time.Millisecond)
	}}, ring.Reseal)
	if err != nil {
		fmt.Println("reseal:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// BenchmarkReseal re-seals a store of 5,000 tokens (4,000 sealed, plus 500
// parked seeds) per iteration, in commits of 50 and of 500 records, against
// the baseline of a read-only census of the same secrets (ForEachSealed
// and Ring.KeyOf, which opens each one).
func BenchmarkReseal(b *testing.B) {
	const tokens = 5000
	keyOf := func(id uint32) []byte {
		return bytes.Repeat([]byte{byte(id), byte(id >> 8), 0x42, 0x24}, seal.KeySize/4)
	}
	run := func(b *testing.B, each func(s *bbolt.Store, ring *seal.Ring) (int, error)) {
		s := openAt(b, filepath.Join(b.TempDir(), "ta.db"), bbolt.Options{})
		fillSealed(b, s, testRing(b, map[uint32][]byte{0: keyOf(0)}), tokens)
		var id uint32
		secrets := 0
		b.ResetTimer()
		for b.Loop() {
			ring := testRing(b, map[uint32][]byte{id: keyOf(id), id + 1: keyOf(id + 1)})
			n, err := each(s, ring)
			if err != nil {
				b.Fatal(err)
			}
			secrets += n
			id++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(secrets), "ns/secret")
	}
	b.Run("census", func(b *testing.B) {
		// Nothing is re-sealed, so every secret stays under key 0.
		ring := testRing(b, map[uint32][]byte{0: keyOf(0), 1: keyOf(1)})
		run(b, func(s *bbolt.Store, _ *seal.Ring) (int, error) {
			n := 0
			err := s.ForEachSealed(context.Background(), func(sealed, aad []byte) error {
				n++
				_, err := ring.KeyOf(sealed, aad)
				return err
			})
			return n, err
		})
	})
	for _, batch := range []int{50, 500} {
		b.Run(fmt.Sprintf("reseal batch=%d", batch), func(b *testing.B) {
			run(b, func(s *bbolt.Store, ring *seal.Ring) (int, error) {
				p, err := s.Reseal(context.Background(), bbolt.ResealOptions{Batch: batch}, ring.Reseal)
				if err == nil && p.Resealed != p.Sealed {
					err = fmt.Errorf("re-sealed %d of %d", p.Resealed, p.Sealed)
				}
				return p.Resealed, err
			})
		})
	}
}
