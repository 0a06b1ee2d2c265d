package etcd

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
)

// TestAuditOfHugeRevocation revokes more tokens than one etcd request can
// name (the members here accept requests of 64 KiB, so 3,000 ids of 26
// characters cross the limit as 60,000 cross the default 1.5 MiB) and
// checks the revocation succeeds and stays fully audited: the event and
// its continuations name every revoked token exactly once, in order after
// the event, and the hash chain verifies. A process that dies between the
// decision and the continuations leaves them to the next start.
func TestAuditOfHugeRevocation(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{MaxRequestBytes: 64 << 10})
	cli := c.Client(t)
	const n = 3000
	for i, tt := range []struct {
		name    string
		action  string
		crashAt int // 0: no crash; -2: after the decision, before the continuations
		call    func(ctx context.Context, s *Store) error
	}{
		{"a user's tokens", "token.batch_revoke", 0, func(ctx context.Context, s *Store) error {
			_, err := s.RevokeUserTokens(ctx, "acme", "ann", at, pb.RevokeReason_REVOKE_REASON_ADMIN)
			return err
		}},
		{"a removed member's tokens", "member.remove", 0, func(ctx context.Context, s *Store) error {
			got, err := s.RemoveMember(ctx, "acme", "ann", at)
			if err == nil && got != n {
				err = fmt.Errorf("RemoveMember revoked %d tokens, want %d", got, n)
			}
			return err
		}},
		{"a user's tokens, stopped before the continuations", "token.batch_revoke", -2, func(ctx context.Context, s *Store) error {
			_, err := s.RevokeUserTokens(ctx, "acme", "ann", at, pb.RevokeReason_REVOKE_REASON_ADMIN)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("/huge/%d/", i)
			open := func() *Store {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				s, err := OpenClient(ctx, cli, Options{Prefix: prefix, WriteTimeout: 30 * time.Second})
				if err != nil {
					t.Fatalf("OpenClient = %v", err)
				}
				t.Cleanup(func() { _ = s.Close() })
				s.idsPerEvent = 500
				return s
			}
			s := open()
			ctx := context.Background()
			if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.New(at.Add(-2 * time.Hour))}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(at.Add(-2 * time.Hour))}); err != nil {
				t.Fatal(err)
			}
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("%026d", i) // as long as a real token id
			}
			insertTokens(t, s, ids)

			actx, pending := audit.NewContext(ctx, &pb.AuditEvent{Time: timestamppb.New(at), Actor: "admin", Action: tt.action, WorkspaceId: "acme", Target: "ann"})
			if tt.crashAt != 0 {
				s.testRevokeHook = func(step int) error {
					if step == tt.crashAt {
						return errCrash
					}
					return nil
				}
				if err := tt.call(actx, s); !errors.Is(err, errCrash) {
					t.Fatalf("revocation = %v; want it stopped by the hook", err)
				}
				_ = s.Close()
				s = open() // the next start appends the continuations
			} else if err := tt.call(actx, s); err != nil {
				t.Fatalf("revocation of %d tokens = %v", n, err)
			}
			first := pending.Recorded()
			if first == nil {
				t.Fatal("the revocation recorded no audit event")
			}

			events, _, err := s.ListAuditEvents(ctx, audit.Filter{}, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			named := map[string]int{}
			var order []string
			parts := 0
			for _, ev := range events {
				if ev.GetSequence() < first.GetSequence() || ev.GetAction() != tt.action {
					continue
				}
				parts++
				if ev.GetActor() != "admin" || ev.GetTarget() != "ann" || !ev.GetTime().AsTime().Equal(at) {
					t.Errorf("event %d = %v, want a copy of the revocation's event", ev.GetSequence(), ev)
				}
				for _, id := range ev.GetRevokedTokenIds() {
					named[id]++
					order = append(order, id)
				}
			}
			if want := n / 500; parts != want {
				t.Errorf("the revocation is recorded in %d events, want %d (500 ids each)", parts, want)
			}
			for _, id := range ids {
				if named[id] != 1 {
					t.Errorf("token %s is named %d times in the audit log, want once", id, named[id])
				}
			}
			if fmt.Sprint(order) != fmt.Sprint(ids) {
				t.Errorf("the events name the tokens out of order")
			}
			res, err := s.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK || res.Checked != uint64(len(events)) {
				t.Errorf("VerifyAudit = %+v, want OK over %d events", res, len(events))
			}
			if left := countRefused(t, s, ids); left != n {
				t.Errorf("%d of %d tokens refused after the revocation", left, n)
			}
			resp, err := cli.Get(ctx, s.k.auditGroups(), clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				t.Fatal(err)
			}
			if resp.Count != 0 {
				t.Errorf("%d staged continuation keys left behind, want none", resp.Count)
			}
		})
	}
}
