package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// addTokens creates n tokens of user in ws with ids prefix000..., from
// several writers at once, and returns the ids.
func addTokens(t *testing.T, s storage.Backend, ws, user, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if err := s.CreateToken(context.Background(), tokenRec(ws, user, ids[i]), nil); err != nil {
					errs <- fmt.Errorf("CreateToken(%q) = %w", ids[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// refusedNow checks that validation (LookupToken) refuses every token of
// ids as revoked for reason, and accepts every token of valid.
func refusedNow(t *testing.T, s storage.Backend, ids, valid []string, reason pb.RevokeReason) {
	t.Helper()
	ctx := context.Background()
	for _, group := range []struct {
		ids     []string
		revoked bool
	}{{ids, true}, {valid, false}} {
		for _, id := range group.ids {
			rec, member, err := s.LookupToken(ctx, hashOf("secret-"+id))
			if err != nil {
				t.Fatalf("LookupToken(%s) = %v", id, err)
			}
			tok := rec.GetToken()
			if got := lifecycle.RevokedBy(tok, t0); got != group.revoked || !member {
				t.Fatalf("token %s: revoked %v (member %v) right after the call; want revoked %v", id, got, member, group.revoked)
			}
			if group.revoked && tok.GetRevokeReason() != reason {
				t.Fatalf("token %s: revoke reason %v; want %v", id, tok.GetRevokeReason(), reason)
			}
		}
	}
}

// testBulkRevokeRefusedAtReturn revokes hundreds of tokens at once, more
// than one etcd transaction holds, with each bulk call, and checks that
// every one is refused the moment the call returns and no other is.
func testBulkRevokeRefusedAtReturn(t *testing.T, openStore NewStore) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	ann := addTokens(t, s, "acme", "ann", "a", 500)
	bob := addTokens(t, s, "acme", "bob", "b", 200)

	got, err := s.RevokeTokens(ctx, "acme", ann[:250], t0, pb.RevokeReason_REVOKE_REASON_ADMIN)
	if err != nil || len(got) != 250 {
		t.Fatalf("RevokeTokens(250) = %d records, %v; want 250", len(got), err)
	}
	refusedNow(t, s, ann[:250], append(append([]string(nil), ann[250:]...), bob...), pb.RevokeReason_REVOKE_REASON_ADMIN)

	got, err = s.RevokeUserTokens(ctx, "acme", "ann", t0, pb.RevokeReason_REVOKE_REASON_USER)
	if err != nil || len(got) != 250 {
		t.Fatalf("RevokeUserTokens(ann) = %d records, %v; want the 250 still live", len(got), err)
	}
	refusedNow(t, s, ann[250:], bob, pb.RevokeReason_REVOKE_REASON_USER)

	hashes := make([][32]byte, 150)
	for i := range hashes {
		hashes[i] = hashOf("secret-" + bob[i])
	}
	got, err = s.RevokeLeaked(ctx, hashes, t0)
	if err != nil || len(got) != 150 {
		t.Fatalf("RevokeLeaked(150) = %d records, %v; want 150", len(got), err)
	}
	refusedNow(t, s, bob[:150], bob[150:], pb.RevokeReason_REVOKE_REASON_LEAKED)
}
