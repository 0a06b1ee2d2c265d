package client_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/client"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestCacheStaleness revokes a token at the authority and checks, with an
// injected clock, that a cached allow outlives the revocation by less than
// the TTL and never by the TTL itself.
func TestCacheStaleness(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	admin := teststack.As(t.Context(), teststack.AdminSecret)
	const ttl = 30 * time.Second
	clock := teststack.NewClock(s.Clock.Now())
	c := dial(t, s, client.WithCache(ttl, 0), client.WithClock(clock.Now))
	plain := dial(t, s)
	own := f.Secrets["own"]

	check := func(what string, cl *client.Client, secret, zoo string, want bool) {
		t.Helper()
		v, err := cl.CheckAccess(t.Context(), secret, zoo, pb.Operation_OPERATION_CLOUD_INFERENCE)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if v.Allowed != want {
			t.Fatalf("%s: %+v; want allowed %v", what, v, want)
		}
	}
	validate := func(what string, secret string, want bool) {
		t.Helper()
		v, err := c.Validate(t.Context(), secret)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if v.Allowed != want {
			t.Fatalf("%s: %+v; want valid %v", what, v, want)
		}
	}

	check("before revoking", c, own, "acme/priv", true)
	validate("before revoking", own, true)
	if _, err := s.Tokens.RevokeToken(admin, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: f.TokenIDs["own"]}); err != nil {
		t.Fatal(err)
	}
	check("uncached client after revoking", plain, own, "acme/priv", false)
	clock.Advance(ttl - time.Nanosecond)
	check("cached, just inside the TTL", c, own, "acme/priv", true)
	validate("cached validation, just inside the TTL", own, true)
	clock.Advance(time.Nanosecond)
	check("at the TTL", c, own, "acme/priv", false)
	validate("validation at the TTL", own, false)
	check("denials are not cached either", c, own, "acme/priv", false)

	// Denials are never cached: a zoo created after a denial is reachable
	// at once.
	other := f.Secrets["other"]
	check("zoo missing", c, other, "acme/later", false)
	if _, err := s.Workspaces.CreateZoo(admin, &pb.CreateZooRequest{WorkspaceId: "acme", ZooId: "later", Visibility: pb.Visibility_VISIBILITY_PUBLIC}); err != nil {
		t.Fatal(err)
	}
	check("zoo created", c, other, "acme/later", true)

	// An allow is never used past the token's own expiry, however long the
	// TTL: revoked after the first check, the token is still accepted from
	// the cache until just before its expiry, and refused at it.
	clock = teststack.NewClock(s.Clock.Now())
	long := dial(t, s, client.WithCache(time.Hour, 0), client.WithClock(clock.Now))
	resp, err := s.Tokens.CreateToken(admin, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "short", ExpireTime: timestamppb.New(s.Clock.Now().Add(10 * time.Second))})
	if err != nil {
		t.Fatal(err)
	}
	check("short-lived token", long, resp.GetSecret(), "acme/pub", true)
	if _, err := s.Tokens.RevokeToken(admin, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: resp.GetToken().GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10*time.Second - time.Nanosecond)
	check("short-lived token, cached just before its expiry", long, resp.GetSecret(), "acme/pub", true)
	clock.Advance(time.Nanosecond)
	check("short-lived token at its expiry", long, resp.GetSecret(), "acme/pub", false)
}
