package teststack

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// TamperAuditEvent rewrites, directly in the store file at dbPath (no
// server may have it open), the one stored audit event pick chooses, as
// an attacker with access to the file would. It fails the test unless
// exactly one event is picked.
func TamperAuditEvent(t testing.TB, dbPath string, pick func(*pb.AuditEvent) bool, change func(*pb.AuditEvent)) {
	t.Helper()
	e, err := bbolt.OpenEngine(dbPath, bbolt.EngineOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", dbPath, err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Errorf("close %s: %v", dbPath, err)
		}
	}()
	_, err = e.Update(t.Context(), func(tx storage.Tx) error {
		var key []byte
		var picked *pb.AuditEvent
		err := storage.RangePrefix(tx, []byte("audit/"), 0, func(k, v []byte) error {
			ev := &pb.AuditEvent{}
			if err := proto.Unmarshal(v, ev); err != nil {
				return err
			}
			if !pick(ev) {
				return nil
			}
			if picked != nil {
				return fmt.Errorf("events %d and %d both picked", picked.GetSequence(), ev.GetSequence())
			}
			key, picked = bytes.Clone(k), ev
			return nil
		})
		if err != nil {
			return err
		}
		if picked == nil {
			return fmt.Errorf("no stored audit event picked")
		}
		change(picked)
		val, err := proto.Marshal(picked)
		if err != nil {
			return err
		}
		return tx.Put(key, val)
	})
	if err != nil {
		t.Fatalf("tamper with the audit log in %s: %v", dbPath, err)
	}
}
