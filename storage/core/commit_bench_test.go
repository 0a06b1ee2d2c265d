package core_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/core"
	"tokenauthority/token"
)

// BenchmarkCreateToken measures what group commit buys on a bbolt file
// fsynced per commit, at 1, 8 and 64 writers sharing b.N writes. core:
// audited CreateToken calls into one workspace, records and events built
// before the timer as the server builds them; writes/commit is how many
// creates shared each commit. engine-update, the baseline: one
// Engine.Update per write, putting the keys a create wrote (read from the
// change feed of one made first: the token, its hash and workspace
// entries, the audit event and its chain head, 5 keys and about 540 bytes)
// with their last 8 bytes replaced by the write's number, so each lands
// where the create's did, with values of the same sizes; no reads.
func BenchmarkCreateToken(b *testing.B) {
	probe := createChanges(b)
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			b.Run("core", func(b *testing.B) {
				var commits, writes atomic.Int64
				s := openCore(b, benchEngine(b), core.Options{OnCommit: func(n int) { commits.Add(1); writes.Add(int64(n)) }})
				ctxs, recs := benchCreates(b, s, b.N)
				commits.Store(0)
				writes.Store(0)
				b.ResetTimer()
				inParallel(b, writers, func(i int) error { return s.CreateToken(ctxs[i], recs[i], nil) })
				b.StopTimer()
				b.ReportMetric(float64(writes.Load())/float64(max(commits.Load(), 1)), "writes/commit")
			})
			b.Run("engine-update", func(b *testing.B) {
				e := benchEngine(b)
				b.ResetTimer()
				inParallel(b, writers, func(i int) error {
					_, err := e.Update(context.Background(), func(tx storage.Tx) error {
						for _, c := range probe {
							k := slices.Clone(c.Key)
							binary.BigEndian.PutUint64(k[len(k)-8:], uint64(i))
							if err := tx.Put(k, make([]byte, len(c.Value))); err != nil {
								return err
							}
						}
						return nil
					})
					return err
				})
			})
		})
	}
}

// createChanges returns what one audited create writes, from the change
// feed.
func createChanges(b *testing.B) []storage.Change {
	e := benchEngine(b)
	s := openCore(b, e, core.Options{})
	ctxs, recs := benchCreates(b, s, 1)
	rev, err := e.Revision(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	feed, err := e.Changes(b.Context(), rev)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateToken(ctxs[0], recs[0], nil); err != nil {
		b.Fatal(err)
	}
	batch := <-feed // bbolt's feed has no progress marks
	if batch.Err != nil || len(batch.Changes) == 0 {
		b.Fatalf("change feed after a create: %+v", batch)
	}
	return batch.Changes
}

// benchEngine opens a bbolt file with the default options (every commit
// fsynced), closed when the benchmark ends.
func benchEngine(b *testing.B) storage.Engine {
	e, err := bbolt.OpenEngine(filepath.Join(b.TempDir(), "kv.db"), bbolt.EngineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	return e
}

// benchCreates makes workspace acme with member ann in s, and n new
// tokens of ann's with their audit events, as the server builds them.
func benchCreates(b *testing.B, s *core.Store, n int) ([]context.Context, []*storagepb.TokenRecord) {
	now := time.Now()
	if err := s.CreateWorkspace(b.Context(), &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.New(now)}); err != nil {
		b.Fatal(err)
	}
	if err := s.AddMember(b.Context(), &pb.Member{WorkspaceId: "acme", UserId: "ann"}); err != nil {
		b.Fatal(err)
	}
	ctxs, recs := make([]context.Context, n), make([]*storagepb.TokenRecord, n)
	for i := range n {
		secret, err := token.New()
		if err != nil {
			b.Fatal(err)
		}
		id, err := token.NewID(now)
		if err != nil {
			b.Fatal(err)
		}
		h := token.Hash(secret)
		recs[i] = &storagepb.TokenRecord{SecretHash: h[:], Token: &pb.Token{
			TokenId: id, FamilyId: id, WorkspaceId: "acme", UserId: "ann", MaskedKey: token.Mask(secret),
			CreateTime: timestamppb.New(now), ExpireTime: timestamppb.New(now.Add(24 * time.Hour)),
		}}
		ctxs[i], _ = audit.NewContext(b.Context(), &pb.AuditEvent{
			Time: timestamppb.New(now), Actor: "ann", Action: "token.create", WorkspaceId: "acme", Target: id,
			ClientAddress: "192.0.2.1:4000",
		})
	}
	return ctxs, recs
}

// inParallel calls write(0) .. write(b.N-1) from writers goroutines; an
// error fails the benchmark and stops its goroutine.
func inParallel(b *testing.B, writers int, write func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if err := write(int(i)); err != nil {
					b.Error(err) // Fatal must not be called off the benchmark's goroutine
					return
				}
			}
		})
	}
	wg.Wait()
}
