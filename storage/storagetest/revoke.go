package storagetest

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// revokedState is what a test expects of one stored token after a call.
type revokedState struct {
	at     time.Time // zero: not revoked
	reason pb.RevokeReason
}

func checkRevoked(t *testing.T, s storage.Backend, ws string, want map[string]revokedState) {
	t.Helper()
	for id, w := range want {
		rec, err := s.GetToken(context.Background(), ws, id)
		if err != nil {
			t.Fatalf("GetToken(%s) = %v", id, err)
		}
		tok := rec.GetToken()
		var got revokedState
		if rt := tok.GetRevokeTime(); rt != nil {
			got.at = rt.AsTime()
		}
		got.reason = tok.GetRevokeReason()
		if !got.at.Equal(w.at) || got.reason != w.reason {
			t.Errorf("token %s: revoked at %v for %v; want %v for %v", id, got.at, got.reason, w.at, w.reason)
		}
	}
}

func ids(recs []*storagepb.TokenRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.GetToken().GetTokenId())
	}
	sort.Strings(out)
	return out
}

func testRevokeTokensByID(t *testing.T, openStore NewStore) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	addWorkspace(t, s, "beta", "ann")
	for _, id := range []string{"01", "02", "03", "04"} {
		addToken(t, s, "acme", "ann", id)
	}
	addToken(t, s, "beta", "ann", "05")
	earlier, now, later := t0.Add(-time.Minute), t0, t0.Add(time.Minute)
	if _, err := s.RevokeToken(ctx, "acme", "02", earlier, pb.RevokeReason_REVOKE_REASON_USER); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeToken(ctx, "acme", "03", later, pb.RevokeReason_REVOKE_REASON_ROLLED); err != nil { // grace
		t.Fatal(err)
	}

	// Any unknown id, or one of another workspace, revokes nothing.
	for _, bad := range [][]string{{"01", "99"}, {"01", "05"}} {
		if _, err := s.RevokeTokens(ctx, "acme", bad, now, pb.RevokeReason_REVOKE_REASON_ADMIN); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("RevokeTokens(%v) = %v; want ErrNotFound", bad, err)
		}
	}
	if _, err := s.RevokeTokens(ctx, "nope", []string{"01"}, now, pb.RevokeReason_REVOKE_REASON_ADMIN); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RevokeTokens in a missing workspace = %v; want ErrNotFound", err)
	}
	if _, err := s.RevokeTokens(ctx, "acme", []string{""}, now, pb.RevokeReason_REVOKE_REASON_ADMIN); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("RevokeTokens with an empty id = %v; want ErrInvalid", err)
	}
	checkRevoked(t, s, "acme", map[string]revokedState{"01": {}})

	got, err := s.RevokeTokens(ctx, "acme", []string{"01", "02", "03", "01"}, now, pb.RevokeReason_REVOKE_REASON_ADMIN)
	if err != nil {
		t.Fatalf("RevokeTokens = %v", err)
	}
	if diff := cmp.Diff([]string{"01", "03"}, ids(got)); diff != "" {
		t.Errorf("RevokeTokens returned (-want +got):\n%s", diff)
	}
	checkRevoked(t, s, "acme", map[string]revokedState{
		"01": {now, pb.RevokeReason_REVOKE_REASON_ADMIN},
		"02": {earlier, pb.RevokeReason_REVOKE_REASON_USER}, // already revoked: untouched
		"03": {now, pb.RevokeReason_REVOKE_REASON_ADMIN},    // grace cut short
		"04": {},
	})
	checkRevoked(t, s, "beta", map[string]revokedState{"05": {}})
}

func testRevokeUserTokens(t *testing.T, openStore NewStore) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann", "bob")
	addWorkspace(t, s, "beta", "ann")
	addToken(t, s, "acme", "ann", "01")
	addToken(t, s, "acme", "ann", "02")
	addToken(t, s, "acme", "bob", "03")
	addToken(t, s, "beta", "ann", "04")
	if _, err := s.RevokeToken(ctx, "acme", "02", t0.Add(-time.Hour), pb.RevokeReason_REVOKE_REASON_USER); err != nil {
		t.Fatal(err)
	}
	got, err := s.RevokeUserTokens(ctx, "acme", "ann", t0, pb.RevokeReason_REVOKE_REASON_ADMIN)
	if err != nil {
		t.Fatalf("RevokeUserTokens = %v", err)
	}
	if diff := cmp.Diff([]string{"01"}, ids(got)); diff != "" {
		t.Errorf("RevokeUserTokens returned (-want +got):\n%s", diff)
	}
	checkRevoked(t, s, "acme", map[string]revokedState{
		"01": {t0, pb.RevokeReason_REVOKE_REASON_ADMIN},
		"02": {t0.Add(-time.Hour), pb.RevokeReason_REVOKE_REASON_USER},
		"03": {},
	})
	checkRevoked(t, s, "beta", map[string]revokedState{"04": {}})

	got, err = s.RevokeUserTokens(ctx, "acme", "nobody", t0, pb.RevokeReason_REVOKE_REASON_ADMIN)
	if err != nil || len(got) != 0 {
		t.Errorf("RevokeUserTokens(a user without tokens) = %v, %v; want none", ids(got), err)
	}
	if _, err := s.RevokeUserTokens(ctx, "nope", "ann", t0, pb.RevokeReason_REVOKE_REASON_ADMIN); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RevokeUserTokens in a missing workspace = %v; want ErrNotFound", err)
	}
}

func testRemoveMemberRecordsReason(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addToken(t, s, "acme", "ann", "01")
	if _, err := s.RemoveMember(context.Background(), "acme", "ann", t0); err != nil {
		t.Fatal(err)
	}
	checkRevoked(t, s, "acme", map[string]revokedState{"01": {t0, pb.RevokeReason_REVOKE_REASON_MEMBER_REMOVED}})
}

func testRevokeLeaked(t *testing.T, openStore NewStore) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addWorkspace(t, s, "beta", "bob")
	addToken(t, s, "acme", "ann", "01")
	addToken(t, s, "acme", "ann", "02")
	addToken(t, s, "beta", "bob", "03")
	if _, err := s.RevokeToken(ctx, "acme", "02", t0.Add(-time.Hour), pb.RevokeReason_REVOKE_REASON_ADMIN); err != nil {
		t.Fatal(err)
	}

	events := len(allEvents(t, s))
	// Nothing matched, or only a token revoked already: no write, and an
	// event recorded only if something is revoked is not recorded.
	for name, hashes := range map[string][][32]byte{
		"unknown":         {hashOf("secret-99"), hashOf("")},
		"revoked already": {hashOf("secret-02")},
	} {
		ectx, p := withEvent(ctx, "token.report_leaked", "", t0)
		p.OnlyIfRevoked()
		got, err := s.RevokeLeaked(ectx, hashes, t0)
		if err != nil || len(got) != 0 {
			t.Fatalf("RevokeLeaked(%s) = %v, %v; want none", name, ids(got), err)
		}
		if p.Recorded() != nil || len(allEvents(t, s)) != events {
			t.Errorf("RevokeLeaked(%s) recorded an event", name)
		}
	}

	ectx, p := withEvent(ctx, "token.report_leaked", "", t0)
	p.OnlyIfRevoked()
	got, err := s.RevokeLeaked(ectx, [][32]byte{hashOf("secret-01"), hashOf("secret-02"), hashOf("secret-03"), hashOf("secret-03"), hashOf("x")}, t0)
	if err != nil {
		t.Fatalf("RevokeLeaked = %v", err)
	}
	if diff := cmp.Diff([]string{"01", "03"}, ids(got)); diff != "" {
		t.Errorf("RevokeLeaked returned (-want +got):\n%s", diff)
	}
	if ev := p.Recorded(); ev == nil || len(ev.GetRevokedTokenIds()) != 2 {
		t.Errorf("the matching report recorded %v; want an event naming 2 tokens", ev)
	}
	checkRevoked(t, s, "acme", map[string]revokedState{
		"01": {t0, pb.RevokeReason_REVOKE_REASON_LEAKED},
		"02": {t0.Add(-time.Hour), pb.RevokeReason_REVOKE_REASON_ADMIN},
	})
	checkRevoked(t, s, "beta", map[string]revokedState{"03": {t0, pb.RevokeReason_REVOKE_REASON_LEAKED}})
}
