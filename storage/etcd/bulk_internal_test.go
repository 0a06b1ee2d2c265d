package etcd

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

var errCrash = errors.New("the process died here")

// TestBulkRevokeAllOrNothing stops a revocation of 500 tokens (over
// sixteen transactions) at each kind of step, as a kill of the process
// would, and checks it is all or nothing: stopped before its deciding
// write no token is revoked, stopped after it every token is refused at
// once by another replica (and cannot be rolled), although most records
// are not rewritten yet, and the next start rewrites them all.
func TestBulkRevokeAllOrNothing(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	for i, tt := range []struct {
		name    string
		crashAt int // -1: before the deciding write; n: before batch n
		call    func(s *Store, ids []string) error
	}{
		{"tokens, before the decision", -1, revokeIDs},
		{"tokens, right after the decision", 0, revokeIDs},
		{"tokens, mid-way", 5, revokeIDs},
		{"user's tokens, mid-way", 3, func(s *Store, _ []string) error {
			_, err := s.RevokeUserTokens(context.Background(), "acme", "ann", at, pb.RevokeReason_REVOKE_REASON_ADMIN)
			return err
		}},
		{"leaked tokens, mid-way", 3, func(s *Store, ids []string) error {
			hashes := make([][32]byte, len(ids))
			for i, id := range ids {
				hashes[i] = sha256.Sum256([]byte("secret-" + id))
			}
			_, err := s.RevokeLeaked(context.Background(), hashes, at)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("/bulk/%d/", i)
			open := func() *Store {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				s, err := OpenClient(ctx, cli, Options{Prefix: prefix, WriteTimeout: 30 * time.Second})
				if err != nil {
					t.Fatalf("OpenClient = %v", err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s
			}
			dying, other := open(), open()
			ids := fillTokens(t, dying, 500)

			dying.testRevokeHook = func(step int) error {
				if step == tt.crashAt {
					return errCrash
				}
				return nil
			}
			if err := tt.call(dying, ids); !errors.Is(err, errCrash) {
				t.Fatalf("revocation = %v; want it stopped by the hook", err)
			}
			_ = dying.Close()
			decided := tt.crashAt >= 0

			// The other replica: every token refused (or none), at once.
			deadline := time.Now().Add(time.Second)
			for {
				refused := countRefused(t, other, ids)
				if !decided && refused != 0 {
					t.Fatalf("%d tokens refused after a revocation stopped before its decision; want none", refused)
				}
				if !decided || refused == len(ids) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d tokens refused by the other replica 1s after the decision; want all", refused, len(ids))
				}
				time.Sleep(10 * time.Millisecond)
			}
			if written := countRevokedRecords(t, other, ids); decided && written >= len(ids) || !decided && written != 0 {
				t.Fatalf("%d records rewritten before the stop; want some but not all, or none before the decision", written)
			}
			// Reads other than validation show the decision too.
			listed, err := other.ListTokens(context.Background(), "acme", "", 0, false, at)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(ids); decided && len(listed) != 0 || !decided && len(listed) != want {
				t.Errorf("ListTokens without revoked ones lists %d tokens; want none after the decision, all before", len(listed))
			}
			got, err := other.GetToken(context.Background(), "acme", ids[len(ids)-1])
			if err != nil || lifecycle.RevokedBy(got.GetToken(), at) != decided {
				t.Errorf("GetToken of the last token = %v, %v; want revoked %v", got.GetToken(), err, decided)
			}
			if decided {
				next := newToken("successor")
				next.Token.CreateTime = timestamppb.New(at.Add(time.Minute))
				_, _, err := other.RollToken(context.Background(), storage.Roll{OldID: ids[len(ids)-1], Next: next})
				if !errors.Is(err, lifecycle.ErrRevoked) {
					t.Errorf("RollToken of a token a decided revocation names = %v; want ErrRevoked", err)
				}
			}

			// The next start finishes what was decided, and only that.
			restarted := open()
			want := 0
			if decided {
				want = len(ids)
			}
			if got := countRevokedRecords(t, restarted, ids); got != want {
				t.Errorf("%d records revoked after the restart; want %d", got, want)
			}
			if got := countRefused(t, restarted, ids); got != want {
				t.Errorf("%d tokens refused after the restart; want %d", got, want)
			}
			resp, err := cli.Get(context.Background(), restarted.k.revocations(), clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil || resp.Count != 0 {
				t.Errorf("revocation records left after the restart: %v, %v; want none", resp, err)
			}
		})
	}
}

var at = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func revokeIDs(s *Store, ids []string) error {
	_, err := s.RevokeTokens(context.Background(), "acme", ids, at, pb.RevokeReason_REVOKE_REASON_ADMIN)
	return err
}

func newToken(id string) *storagepb.TokenRecord {
	h := sha256.Sum256([]byte("secret-" + id))
	return &storagepb.TokenRecord{
		Token:      &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(at.Add(-time.Hour))},
		SecretHash: h[:],
	}
}

// fillTokens creates workspace acme, member ann and n tokens of hers.
func fillTokens(t *testing.T, s *Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.New(at.Add(-2 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(at.Add(-2 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	// Forty tokens a transaction (three keys each): the records are
	// what CreateToken writes, without its checks, to keep the test short.
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%04d", i)
	}
	for start := 0; start < n; start += 40 {
		_, err := s.update(ctx, "fill", func(x *txn) error {
			for _, id := range ids[start:min(n, start+40)] {
				rec := newToken(id)
				val, err := storage.CheckNewToken(rec)
				if err != nil {
					return err
				}
				s.insertToken(x, rec.Token, rec.SecretHash, val)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// countRefused counts the tokens validation refuses as revoked.
func countRefused(t *testing.T, s *Store, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		rec, _, err := s.LookupToken(context.Background(), sha256.Sum256([]byte("secret-"+id)))
		if err != nil {
			t.Fatalf("LookupToken(%s) = %v", id, err)
		}
		if lifecycle.RevokedBy(rec.GetToken(), at) {
			n++
		}
	}
	return n
}

// countRevokedRecords counts the token records that say revoked.
func countRevokedRecords(t *testing.T, s *Store, ids []string) int {
	t.Helper()
	recs, err := s.readTokens(context.Background(), ids)
	if err != nil || len(recs) != len(ids) {
		t.Fatalf("readTokens = %d records, %v; want %d", len(recs), err, len(ids))
	}
	n := 0
	for _, rec := range recs {
		if lifecycle.RevokedBy(rec.GetToken(), at) {
			n++
		}
	}
	return n
}
