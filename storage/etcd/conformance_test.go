package etcd_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage"
	"tokenauthority/storage/etcd"
	"tokenauthority/storage/storagetest"
)

// TestConformance runs the storage conformance suite on a three-member
// cluster, each test on its own key prefix.
func TestConformance(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	var n atomic.Int64
	storagetest.RunTests(t, func(t testing.TB) storage.Backend {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := etcd.OpenClient(ctx, cli, etcd.Options{Prefix: fmt.Sprintf("/conformance/%d/", n.Add(1)),
			// The suite's concurrent writers all append to one audit
			// chain; on a loaded machine their retries outlast the
			// default bound, which is for a lost quorum.
			WriteTimeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("OpenClient = %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestVerifyAuditFromCheckpointFindsTampering: after a retention sweep,
// edits of the kept events or of the checkpoint, made directly in etcd as
// an attacker with write access to the cluster would, are found.
func TestVerifyAuditFromCheckpointFindsTampering(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	eventKey := func(prefix string, seq uint64) string { return fmt.Sprintf("%saudit/%020d", prefix, seq) }
	tests := []struct {
		name       string
		tamper     func(ctx context.Context, prefix string) error
		wantBroken uint64
	}{
		{"untouched", func(context.Context, string) error { return nil }, 0},
		{"first kept event deleted", func(ctx context.Context, p string) error {
			_, err := cli.Delete(ctx, eventKey(p, 5))
			return err
		}, 5},
		{"checkpoint hash edited", func(ctx context.Context, p string) error {
			resp, err := cli.Get(ctx, p+"audit_checkpoint")
			if err != nil || len(resp.Kvs) != 1 {
				return fmt.Errorf("read checkpoint: %v, %d keys", err, len(resp.Kvs))
			}
			v := append([]byte(nil), resp.Kvs[0].Value...)
			v[len(v)-1] ^= 1
			_, err = cli.Put(ctx, p+"audit_checkpoint", string(v))
			return err
		}, 5},
		{"checkpoint deleted", func(ctx context.Context, p string) error {
			_, err := cli.Delete(ctx, p+"audit_checkpoint")
			return err
		}, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			prefix := fmt.Sprintf("/tamper/%d/", i)
			s, err := etcd.OpenClient(ctx, cli, etcd.Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			for j := range 8 {
				id := fmt.Sprintf("ws-%d", j)
				ectx, _ := audit.NewContext(ctx, &pb.AuditEvent{Time: timestamppb.New(t0.Add(time.Duration(j) * time.Minute)), Actor: "web", Action: "workspace.create", Target: id})
				if err := s.CreateWorkspace(ectx, &pb.Workspace{WorkspaceId: id}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.SweepAudit(ctx, t0.Add(3*time.Minute+30*time.Second), 3); err != nil || n != 4 {
				t.Fatalf("SweepAudit = %d, %v; want 4", n, err)
			}
			if err := tt.tamper(ctx, prefix); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			res, err := s.VerifyAudit(ctx)
			if err != nil {
				t.Fatalf("VerifyAudit: %v", err)
			}
			if res.OK != (tt.wantBroken == 0) || res.FirstBroken != tt.wantBroken {
				t.Errorf("VerifyAudit = %+v; want first broken sequence %d", res, tt.wantBroken)
			}
			if tt.wantBroken == 0 && res.Checkpoint != 4 {
				t.Errorf("VerifyAudit checkpoint = %d; want 4", res.Checkpoint)
			}
		})
	}
}
