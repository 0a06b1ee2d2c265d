package bbolt

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestAuditEventRollsBackWithItsChange: a write that fails after writing is
// rolled back, and its event with it.
func TestAuditEventRollsBackWithItsChange(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "ta.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	errBoom := errors.New("boom")
	ctx, p := audit.NewContext(t.Context(), &pb.AuditEvent{Action: "workspace.create", Target: "a"})
	err = s.update(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketWorkspaces).Put([]byte("a"), []byte("v")); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) || p.Recorded() != nil {
		t.Fatalf("failing write = %v, recorded %v; want boom and nothing recorded", err, p.Recorded())
	}
	err = s.view(t.Context(), func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWorkspaces).Get([]byte("a")) != nil {
			t.Error("the failed change was stored")
		}
		if n := tx.Bucket(bucketAudit).Stats().KeyN; n != 0 {
			t.Errorf("%d events stored for a failed change", n)
		}
		if tx.Bucket(bucketMeta).Get(keyAuditHead) != nil {
			t.Error("the audit head moved for a failed change")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
