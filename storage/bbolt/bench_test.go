package bbolt

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// benchRecords builds n distinct ~200-byte token records of acme/ann.
func benchRecords(n int) []*storagepb.TokenRecord {
	recs := make([]*storagepb.TokenRecord, n)
	now := timestamppb.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	for i := range recs {
		id := fmt.Sprintf("01J%023d", i)
		h := sha256.Sum256([]byte("secret-" + id))
		recs[i] = &storagepb.TokenRecord{
			Token: &pb.Token{
				TokenId: id, WorkspaceId: "acme", UserId: "ann",
				Description: "benchmark token", MaskedKey: "dg_abcd…wxyz",
				CreateTime: now, ExpireTime: now,
			},
			SecretHash:   h[:],
			SealedSecret: make([]byte, 60),
		}
	}
	return recs
}

// benchSchema prepares a raw bbolt file the way Open does, with acme/ann.
func benchSchema(tx *bolt.Tx) error {
	if err := initSchema(tx); err != nil {
		return err
	}
	if err := (&Store{}).insertWorkspace(tx, []byte("acme"), []byte{}); err != nil {
		return err
	}
	return tx.Bucket(bucketMembers).Put(compositeKey("acme", "ann"), []byte{})
}

// runWriters has writers goroutines share b.N calls of write.
func runWriters(b *testing.B, writers int, write func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := write(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
}

// rawCreate does what CreateToken does inside its transaction, for the
// baselines that bypass the group commit.
func rawCreate(rec *storagepb.TokenRecord) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		val, err := storage.CheckNewToken(rec)
		if err != nil {
			return err
		}
		if err := checkTokenFree(tx, rec.Token, rec.SecretHash); err != nil {
			return err
		}
		return (&Store{}).insertToken(tx, rec.Token, rec.SecretHash, val)
	}
}

// BenchmarkCreateToken compares the group commit with one fsynced db.Update
// per write and with bbolt's Batch (default 10 ms MaxBatchDelay), at the
// same concurrency, each on its own file.
func BenchmarkCreateToken(b *testing.B) {
	ctx := context.Background()
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("group/writers=%d", writers), func(b *testing.B) {
			var commits atomic.Int64
			s, err := Open(filepath.Join(b.TempDir(), "ta.db"), Options{OnCommit: func(int) { commits.Add(1) }})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.update(ctx, benchSchema); err != nil {
				b.Fatal(err)
			}
			recs := benchRecords(b.N)
			commits.Store(0)
			runWriters(b, writers, func(i int) error { return s.CreateToken(ctx, recs[i], nil) })
			b.ReportMetric(float64(b.N)/float64(commits.Load()), "writes/commit")
		})
		b.Run(fmt.Sprintf("update/writers=%d", writers), func(b *testing.B) {
			db := openBenchDB(b)
			recs := benchRecords(b.N)
			runWriters(b, writers, func(i int) error { return db.Update(rawCreate(recs[i])) })
			b.ReportMetric(1, "writes/commit")
		})
		b.Run(fmt.Sprintf("bboltbatch/writers=%d", writers), func(b *testing.B) {
			db := openBenchDB(b)
			recs := benchRecords(b.N)
			var mu sync.Mutex
			txs := make(map[*bolt.Tx]bool)
			runWriters(b, writers, func(i int) error {
				create := rawCreate(recs[i])
				return db.Batch(func(tx *bolt.Tx) error {
					mu.Lock()
					txs[tx] = true
					mu.Unlock()
					return create(tx)
				})
			})
			b.ReportMetric(float64(b.N)/float64(len(txs)), "writes/commit")
		})
	}
}

// openBenchDB opens a plain bbolt file, fsync on, for the baselines.
func openBenchDB(b *testing.B) *bolt.DB {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if err := db.Update(benchSchema); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkLookupToken measures the validation read path over 100k tokens.
func BenchmarkLookupToken(b *testing.B) {
	ctx := context.Background()
	s, err := Open(filepath.Join(b.TempDir(), "ta.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100_000
	recs := benchRecords(n)
	err = s.update(ctx, func(tx *bolt.Tx) error {
		if err := benchSchema(tx); err != nil {
			return err
		}
		for _, rec := range recs {
			if err := rawCreate(rec)(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	hashes := make([][32]byte, n)
	for i, rec := range recs {
		hashes[i] = [32]byte(rec.SecretHash)
	}
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, _, err := s.LookupToken(ctx, hashes[(i*7919)%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var seq atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(1)) * 104729
			for pb.Next() {
				i++
				if _, _, err := s.LookupToken(ctx, hashes[(i*7919)%n]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkAuditedCreateToken measures what recording an audit event in the
// same commit costs: the same writes with and without an event in their
// context, on their own files.
func BenchmarkAuditedCreateToken(b *testing.B) {
	for _, writers := range []int{1, 8} {
		for _, audited := range []bool{false, true} {
			b.Run(fmt.Sprintf("audited=%v/writers=%d", audited, writers), func(b *testing.B) {
				s, err := Open(filepath.Join(b.TempDir(), "ta.db"), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				if err := s.update(context.Background(), benchSchema); err != nil {
					b.Fatal(err)
				}
				recs := benchRecords(b.N)
				runWriters(b, writers, func(i int) error {
					ctx := context.Background()
					if audited {
						ctx, _ = audit.NewContext(ctx, &pb.AuditEvent{
							Time: timestamppb.Now(), Actor: "hub-web", Action: "token.create",
							WorkspaceId: "acme", Target: recs[i].GetToken().GetTokenId(), ClientAddress: "127.0.0.1:40000",
						})
					}
					return s.CreateToken(ctx, recs[i], nil)
				})
			})
		}
	}
}

// BenchmarkCounts compares what a /metrics scrape costs for the stored
// counts (Store.Counts) at 1k and 100k tokens, against the walk of both
// buckets that the gauges did before (bolt's Stats().KeyN) as the baseline.
func BenchmarkCounts(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1_000, 100_000} {
		s, err := Open(filepath.Join(b.TempDir(), "ta.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		recs := benchRecords(n)
		err = s.update(ctx, func(tx *bolt.Tx) error {
			if err := benchSchema(tx); err != nil {
				return err
			}
			for _, rec := range recs {
				if err := rawCreate(rec)(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("stored/tokens=%d", n), func(b *testing.B) {
			for b.Loop() {
				tokens, _, err := s.Counts(ctx)
				if err != nil || tokens != n {
					b.Fatalf("Counts = %d, %v; want %d", tokens, err, n)
				}
			}
		})
		b.Run(fmt.Sprintf("walk/tokens=%d", n), func(b *testing.B) {
			for b.Loop() {
				var tokens int
				err := s.view(ctx, func(tx *bolt.Tx) error {
					tokens = tx.Bucket(bucketTokens).Stats().KeyN
					_ = tx.Bucket(bucketWorkspaces).Stats().KeyN
					return nil
				})
				if err != nil || tokens != n {
					b.Fatalf("walk = %d, %v; want %d", tokens, err, n)
				}
			}
		})
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
