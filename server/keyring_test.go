package server_test

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
)

// TestRevealWithKeyRing: secrets sealed under ring key 1 reveal and pick
// under a ring that still holds key 1, and answer FailedPrecondition naming
// the key ring (never Internal) under one that lost it.
func TestRevealWithKeyRing(t *testing.T) {
	t.Parallel()
	ring := func(ids ...uint32) *seal.Ring {
		keys := map[uint32][]byte{}
		for _, id := range ids {
			keys[id] = bytes.Repeat([]byte{byte(id + 1)}, seal.KeySize)
		}
		r, err := seal.NewRing(keys)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	e := newEnv(t, func(c *server.Config) { c.Box = ring(0, 1) })
	e.workspace(t, "acme", []string{"alice"}, nil)
	const seed = "Zp4_wQ9zL2mX7vB-pN5cT8yH1jF6gD3sA0eU9oI2kWq"
	tok, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: seed})
	reveal := &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()}

	lost := newEnv(t, func(c *server.Config) { c.Store = e.store; c.Box = ring(0, 2) })
	_, err := lost.tokens.RevealToken(admin(t), reveal)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "not in the server's key ring") {
		t.Errorf("reveal under a ring without key 1 = %v; want FailedPrecondition naming the key ring", err)
	}
	_, err = lost.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "not in the server's key ring") {
		t.Errorf("pick under a ring without key 1 = %v; want FailedPrecondition naming the key ring", err)
	}

	rotated := newEnv(t, func(c *server.Config) { c.Store = e.store; c.Box = ring(1, 2) })
	got, err := rotated.tokens.RevealToken(admin(t), reveal)
	if err != nil {
		t.Fatalf("reveal under a ring holding key 1 = %v", err)
	}
	if got.GetSecret() != secret {
		t.Error("reveal under the rotated ring returned another secret")
	}
	picked, err := rotated.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
	if err != nil {
		t.Fatalf("pick under a ring holding key 1 = %v; want the seed kept by the failed pick", err)
	}
	if picked.GetToken() != secret {
		t.Error("pick under the rotated ring returned another secret")
	}
}
