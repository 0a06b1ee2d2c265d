package bbolt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
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

// TestAuditEventContinues: an event naming more revoked tokens than one
// event holds continues in events right after it, in the same commit,
// naming each token once and in order; the chain verifies.
func TestAuditEventContinues(t *testing.T) {
	t.Parallel()
	s, err := Open(filepath.Join(t.TempDir(), "ta.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.idsPerEvent = 3
	ctx := t.Context()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("t%02d", i)
		h := sha256.Sum256([]byte(id))
		rec := &storagepb.TokenRecord{Token: &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(now)}, SecretHash: h[:]}
		if err := s.CreateToken(ctx, rec, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	actx, p := audit.NewContext(ctx, &pb.AuditEvent{Time: timestamppb.New(now), Actor: "admin", Action: "token.batch_revoke", WorkspaceId: "acme", Target: "ann"})
	if _, err := s.RevokeUserTokens(actx, "acme", "ann", now, pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}
	events, _, err := s.ListAuditEvents(ctx, audit.Filter{}, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 || p.Recorded().GetSequence() != events[0].GetSequence() {
		t.Fatalf("%d events, first %d; want 4 (3+3+3+1 ids) from the recorded one %d", len(events), events[0].GetSequence(), p.Recorded().GetSequence())
	}
	var named []string
	for _, ev := range events {
		if ev.GetAction() != "token.batch_revoke" || ev.GetActor() != "admin" || ev.GetTarget() != "ann" || !ev.GetTime().AsTime().Equal(now) {
			t.Errorf("event %d = %v, want a copy of the revocation's", ev.GetSequence(), ev)
		}
		named = append(named, ev.GetRevokedTokenIds()...)
	}
	if fmt.Sprint(named) != fmt.Sprint(ids) {
		t.Errorf("events name %v, want %v", named, ids)
	}
	res, err := s.VerifyAudit(ctx)
	if err != nil || !res.OK {
		t.Errorf("VerifyAudit = %+v, %v; want OK", res, err)
	}
}
