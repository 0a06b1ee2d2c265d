package server_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/token"
)

func TestTokenInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	exp := e.clock.Now().Add(time.Hour)
	_, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Description: "ci", ExpireTime: timestamppb.New(exp)})
	_, forever := e.token(t, "acme", "alice", nil)

	info, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret})
	if err != nil {
		t.Fatalf("GetTokenInfo: %v", err)
	}
	if info.GetDescription() != "ci" || info.GetUser() != "alice" || info.GetSpace() != "acme" || !info.GetExpiration().AsTime().Equal(exp) || !info.GetCreatedAt().AsTime().Equal(e.clock.Now()) {
		t.Errorf("GetTokenInfo = %v", info)
	}
	info, err = e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: forever})
	if err != nil || info.GetExpiration().GetSeconds() != -62135596800 {
		t.Errorf("never-expiring token's expiration = %v, %v; want 0001-01-01T00:00:00Z", info.GetExpiration(), err)
	}

	e.clock.Advance(2 * time.Hour)
	unknown, err := token.New()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ secret, want string }{
		"expired":   {secret, "expired"},
		"unknown":   {unknown, "unknown"},
		"malformed": {"hello", "malformed"},
	} {
		_, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: tc.secret})
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), tc.want) {
			t.Errorf("%s: %v; want Unauthenticated saying %q", name, err, tc.want)
		}
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	created := e.clock.Now()
	old, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Description: "laptop", ExpireTime: timestamppb.New(created.Add(24 * time.Hour))})

	e.clock.Advance(23*time.Hour + 30*time.Minute) // the SDK refreshes within the last hour
	resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	fresh := resp.GetValue()
	if fresh == secret || token.Check(fresh) != nil {
		t.Fatalf("RefreshToken returned %q; want a new valid secret", token.Mask(fresh))
	}
	info, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: fresh})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetDescription() != "laptop" || info.GetUser() != "alice" || info.GetSpace() != "acme" {
		t.Errorf("refreshed token info = %v; want the old description, user and workspace", info)
	}
	if got, want := info.GetExpiration().AsTime().Sub(info.GetCreatedAt().AsTime()), 24*time.Hour; got != want {
		t.Errorf("refreshed lifetime = %v, want %v", got, want)
	}
	e.clock.Advance(9 * time.Minute) // within the 10-minute grace period
	if v := e.validate(t, secret); !v.GetValid() || v.GetToken().GetReplacedBy() == "" {
		t.Errorf("old token within grace: %v; want valid and replaced_by set", v)
	}
	e.clock.Advance(time.Minute)
	if v := e.validate(t, secret); v.GetReason() != pb.Reason_REASON_REVOKED {
		t.Errorf("old token after grace: %v; want REASON_REVOKED", v)
	}
	if v := e.validate(t, fresh); !v.GetValid() {
		t.Errorf("new token: %v; want valid", v)
	}
	list, err := e.tokens.ListTokens(admin(t), &pb.ListTokensRequest{WorkspaceId: "acme"})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list.GetTokens()) != 1 || list.GetTokens()[0].GetTokenId() == old.GetTokenId() {
		t.Errorf("ListTokens after refresh = %v; want only the new token", list.GetTokens())
	}
	if _, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("refresh of a revoked token: %v; want Unauthenticated", err)
	}
}

func TestSeedPick(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	const seed = "0f3c2a9e8d7b6a5f4e3d2c1b0a998877"
	if _, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed}); status.Code(err) != codes.NotFound {
		t.Fatalf("pick before create: %v; want NotFound", err)
	}
	_, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: seed})
	got, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
	if err != nil || got.GetToken() != secret {
		t.Fatalf("PickSeedToken = %v; want the created secret", err)
	}
	if _, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed}); status.Code(err) != codes.NotFound {
		t.Errorf("second pick: %v; want NotFound", err)
	}
	if _, err := e.tokens.CreateToken(admin(t), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Seed: seed}); err != nil {
		t.Errorf("reusing a picked seed: %v", err)
	}

	const late = "Xq3vN8_bT-2mKp7RzLw0YhCs9dFj4GaE1uVo6iUe5Ny"
	e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: late})
	if _, err := e.tokens.CreateToken(admin(t), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Seed: late}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("a seed parked twice: %v; want AlreadyExists", err)
	}
	e.clock.Advance(11 * time.Minute)
	if _, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: late}); status.Code(err) != codes.NotFound {
		t.Errorf("pick after the seed expired: %v; want NotFound", err)
	}
}

// TestNoSecretInLogs runs every path that handles a secret with debug logging
// on and checks that no secret reaches the log.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, map[string]pb.Visibility{"priv": private})
	const seed = "d8Fh2-kLq9ZxV_4mBn7TpR3sWc6yJg1aEo5uQi0tHe8"
	tok, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: seed})
	secrets := []string{secret, seed, adminSecret, validatorSecret}
	// Every call must succeed (or fail exactly as expected): a path that
	// failed early would log nothing and pass for the wrong reason.
	if _, err := e.tokens.RevealToken(admin(t), &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()}); err != nil {
		t.Fatalf("RevealToken: %v", err)
	}
	if v := e.validate(t, secret); !v.GetValid() {
		t.Fatalf("ValidateToken = %v; want valid", v)
	}
	if _, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: secret, Zoo: "acme/priv", Operation: cloud}); err != nil {
		t.Fatalf("CheckAccess: %v", err)
	}
	if _, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret}); err != nil {
		t.Fatalf("GetTokenInfo: %v", err)
	}
	if _, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed}); err != nil {
		t.Fatalf("PickSeedToken: %v", err)
	}
	resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, resp.GetValue())
	if _, err := e.tokens.ValidateToken(as(t.Context(), "tkas_wrong"), &pb.ValidateTokenRequest{Secret: secret}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("ValidateToken with a wrong credential: %v; want Unauthenticated", err)
	}

	logs := e.logs.String()
	if !strings.Contains(logs, "action=token.refresh") {
		t.Fatalf("expected audit lines in the log, got:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log contains a secret (%s):\n%s", token.Mask(s), logs)
		}
	}
}

// TestRefreshReuseRevokesFamily: a second refresh of the same secret means
// two parties hold it; it fails and revokes the whole family.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	first, secret := e.token(t, "acme", "alice", nil)
	resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	fresh := resp.GetValue()
	_, err = e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "revoked") {
		t.Fatalf("second refresh of the old token: %v; want FailedPrecondition saying the family is revoked", err)
	}
	for name, s := range map[string]string{"old": secret, "new": fresh} {
		v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: s})
		if err != nil {
			t.Fatal(err)
		}
		if v.GetReason() != pb.Reason_REASON_REVOKED || v.GetToken().GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_REUSE_DETECTED || v.GetToken().GetFamilyId() != first.GetTokenId() {
			t.Errorf("%s token after reuse: %v; want REVOKED for REUSE_DETECTED in family %s", name, v, first.GetTokenId())
		}
	}
}

// TestSeedPickWithWrongKey: a server started with another master key
// cannot open a parked seed; it answers FailedPrecondition and keeps the
// seed, which a server with the right key then hands out.
func TestSeedPickWithWrongKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	const seed = "Rk4_wQ9zL2mX7vB-pN5cT8yH1jF6gD3sA0eU9oI2kWq"
	tok, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: seed})

	otherKey := make([]byte, seal.KeySize)
	otherKey[0] = 1
	box, err := seal.New(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	wrong := newEnv(t, func(c *server.Config) { c.Store = e.store; c.Box = box })
	_, err = wrong.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "master key cannot open") {
		t.Fatalf("pick with a wrong master key = %v; want FailedPrecondition naming the master key", err)
	}
	_, err = wrong.tokens.RevealToken(admin(t), &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "master key cannot open") {
		t.Errorf("reveal with a wrong master key = %v; want FailedPrecondition naming the master key", err)
	}
	got, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
	if err != nil {
		t.Fatalf("pick with the right key after a failed one = %v; want the seed still there", err)
	}
	if got.GetToken() != secret {
		t.Errorf("picked a different secret")
	}
}

// TestSeedPickOfRevokedToken: once the admin revokes the token, its seed no
// longer hands out the secret.
func TestSeedPickOfRevokedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	const seed = "Zt7_pK2xQ9mW4vN-bL8cR1yH6jF3gD0sA5eU2oI9kWx"
	tok, _ := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: seed})
	if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed}); status.Code(err) != codes.NotFound {
		t.Errorf("pick of a revoked token's seed = %v; want NotFound", err)
	}
}
