package etcd_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/etcd"
)

// BenchmarkCreateToken measures audited CreateToken calls (what the
// CreateToken RPC makes) by 1 and 16 concurrent writers: on bbolt (a file
// in a temporary directory, fsync on every commit) as the baseline, and on
// an in-process three-member etcd cluster on loopback, with and without
// fsync, all members on this machine's one disk, through one replica and
// (with fsync) through two. Run:
//
//	go test ./storage/etcd -run '^$' -bench CreateToken -benchtime 3s
func BenchmarkCreateToken(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) []storage.Backend
	}{
		{"bbolt", func(b *testing.B) []storage.Backend {
			s, err := bbolt.Open(filepath.Join(b.TempDir(), "bench.db"), bbolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return []storage.Backend{s}
		}},
		{"etcd-nofsync", openEtcd(etcdtest.Options{}, 1)},
		{"etcd-fsync", openEtcd(etcdtest.Options{Fsync: true}, 1)},
		// Two replicas' writes race on the chain head across processes.
		{"etcd-fsync-2replicas", openEtcd(etcdtest.Options{Fsync: true}, 2)},
	}
	var run atomic.Int64
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			stores := be.open(b)
			s := stores[0]
			ctx := context.Background()
			if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.Now()}); err != nil {
				b.Fatal(err)
			}
			if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.Now()}); err != nil {
				b.Fatal(err)
			}
			for _, writers := range []int{1, 16} {
				b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
					r := run.Add(1)
					recs := make([]*storagepb.TokenRecord, b.N)
					for i := range recs {
						recs[i] = benchRecord(fmt.Sprintf("01J%05d%018d", r, i))
					}
					runWriters(b, writers, func(i int) error {
						actx, pending := audit.NewContext(ctx, &pb.AuditEvent{Time: timestamppb.Now(), Actor: "bench", Action: "token.create", WorkspaceId: "acme", Target: recs[i].Token.TokenId})
						if err := stores[i%len(stores)].CreateToken(actx, recs[i], nil); err != nil {
							return err
						}
						if pending.Recorded() == nil {
							return fmt.Errorf("create of %s recorded no audit event", recs[i].Token.TokenId)
						}
						return nil
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
				})
			}
		})
	}
}

// openEtcd opens n stores (replicas, each with its own client) on a fresh
// cluster started with opts.
func openEtcd(opts etcdtest.Options, n int) func(b *testing.B) []storage.Backend {
	return func(b *testing.B) []storage.Backend {
		c := etcdtest.Start(b, opts)
		var out []storage.Backend
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			s, err := etcd.OpenClient(ctx, c.Client(b), etcd.Options{WriteTimeout: time.Minute})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			out = append(out, s)
		}
		return out
	}
}

// benchRecord is a ~200-byte token record of acme/ann.
func benchRecord(id string) *storagepb.TokenRecord {
	h := sha256.Sum256([]byte("secret-" + id))
	return &storagepb.TokenRecord{
		Token: &pb.Token{
			TokenId: id, WorkspaceId: "acme", UserId: "ann",
			Description: "benchmark token", MaskedKey: "dg_abcd…wxyz",
			CreateTime: timestamppb.Now(),
		},
		SecretHash:   h[:],
		SealedSecret: make([]byte, 60),
	}
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
