package etcd_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage/etcd"
	"tokenauthority/storage/storagetest"
)

// BenchmarkMigrateLayout1 migrates the v0.1.0 fixture grown by 10,000
// tokens (a record, a hash entry and a workspace entry each) and as many audit events, on a three-member cluster: one op
// is one whole migration, as OpenClient runs it. It reports keys moved a
// second.
func BenchmarkMigrateLayout1(b *testing.B) {
	const n = 10_000
	c := etcdtest.Start(b, etcdtest.Options{Members: 3})
	cli := c.Client(b)
	keys := 0
	for b.Loop() {
		b.StopTimer()
		prefix := newPrefix()
		loadLayout1(b, cli, prefix, "layout1-v0.1.0.json")
		growLayout1(b, cli, prefix, n)
		resp, err := cli.Get(b.Context(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			b.Fatal(err)
		}
		keys = int(resp.Count)
		b.StartTimer()
		s, err := etcd.OpenClient(b.Context(), cli, etcd.Options{Prefix: prefix})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if tokens, _, err := s.Counts(b.Context()); err != nil || tokens != n+7 {
			b.Fatalf("Counts = %d, %v; want %d tokens", tokens, err, n+7)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(keys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// growLayout1 adds n raw tokens of workspace acme and n audit events to a
// prefix of the first layout, in transactions of 25 tokens.
func growLayout1(b *testing.B, cli *clientv3.Client, prefix string, n int) {
	var ops []clientv3.Op
	flush := func() {
		if _, err := cli.Txn(b.Context()).Then(ops...).Commit(); err != nil {
			b.Fatal(err)
		}
		ops = ops[:0]
	}
	for i := range n {
		id := fmt.Sprintf("01jnqy%020d", i)
		hash := binary.BigEndian.AppendUint64(make([]byte, 24), uint64(i)*0x9e3779b97f4a7c15)
		at := storagetest.FixtureT0.Add(time.Duration(i) * time.Millisecond)
		rec, err := proto.Marshal(&storagepb.TokenRecord{
			Token: &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "ann", Description: "grown", MaskedKey: "ta_…" + id[22:],
				CreateTime: timestamppb.New(at)},
			SecretHash: hash, SealedSecret: make([]byte, 60),
		})
		if err != nil {
			b.Fatal(err)
		}
		ev, err := proto.Marshal(&pb.AuditEvent{
			Sequence: uint64(100 + i), Time: timestamppb.New(at),
			Actor: "admin", Action: "token.create", WorkspaceId: "acme", Target: id,
			ClientAddress: "192.0.2.1:4000", PrevHash: hash, Hash: hash,
		})
		if err != nil {
			b.Fatal(err)
		}
		ops = append(ops,
			clientv3.OpPut(prefix+"token/"+id, string(rec)),
			clientv3.OpPut(prefix+"hash/"+hex.EncodeToString(hash), id),
			clientv3.OpPut(prefix+"wstoken/acme\x00"+id, "ann"),
			clientv3.OpPut(prefix+fmt.Sprintf("audit/%020d", 100+i), string(ev)))
		if len(ops) >= 100 {
			flush()
		}
	}
	if len(ops) > 0 {
		flush()
	}
}
