package bbolt_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/storagetest"
)

// BenchmarkMigrate migrates the fixture grown by 100,000 tokens (a record,
// a hash entry and a workspace entry each, values the size of a real
// record) and as many audit events: one op is one whole migration. It
// reports the file's size before and after.
func BenchmarkMigrate(b *testing.B) {
	const n = 100_000
	src := copyFixture(b)
	grow(b, src, n)
	before := fileSize(b, src)
	var after int64
	for b.Loop() {
		b.StopTimer()
		path := copyTo(b, src)
		b.StartTimer()
		e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		after = fileSize(b, path)
		if err := os.Remove(path); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(before)/(1<<20), "MiB-before")
	b.ReportMetric(float64(after)/(1<<20), "MiB-after")
}

// grow adds n raw tokens and n audit events to a schema 2 file.
func grow(b *testing.B, path string, n int) {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		rec := make([]byte, 170)
		for i := range n {
			id := fmt.Appendf(nil, "01jnqy%020d", i)
			hash := make([]byte, 32)
			binary.BigEndian.PutUint64(hash, uint64(i)*0x9e3779b97f4a7c15)
			err := tx.Bucket([]byte("tokens")).Put(id, rec)
			if err == nil {
				err = tx.Bucket([]byte("token_hashes")).Put(hash, id)
			}
			if err == nil {
				err = tx.Bucket([]byte("workspace_tokens")).Put(append([]byte("acme\x00"), id...), []byte("ann"))
			}
			if err == nil {
				var ev []byte
				ev, err = proto.Marshal(&pb.AuditEvent{
					Sequence: uint64(100 + i), Time: timestamppb.New(storagetest.FixtureT0.Add(time.Duration(i) * time.Millisecond)),
					Actor: "admin", Action: "token.create", WorkspaceId: "acme", Target: string(id),
					ClientAddress: "192.0.2.1:4000", PrevHash: hash, Hash: hash,
				})
				if err == nil {
					err = tx.Bucket([]byte("audit")).Put(binary.BigEndian.AppendUint64(nil, uint64(100+i)), ev)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// fileSize is the size of the file at path.
func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
