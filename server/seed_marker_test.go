package server_test

import (
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestCreatedForSeedMarker: a token created for a seed says so wherever it
// is shown, and keeps saying so after its seed was picked; a plain token
// and a token refreshed from a seed token do not.
func TestCreatedForSeedMarker(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	const seed = "Zq3_vN8kL1mX6cB-pR4tT9yH2jF7gD5sA0eU8oI3kWq"
	seeded, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Seed: seed})
	plain, _ := e.token(t, "acme", "alice", nil)
	if !seeded.GetCreatedForSeed() || plain.GetCreatedForSeed() {
		t.Fatalf("CreateToken: created_for_seed = %v for the seed token, %v for the plain one; want true, false", seeded.GetCreatedForSeed(), plain.GetCreatedForSeed())
	}
	if _, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed}); err != nil {
		t.Fatal(err)
	}
	got, err := e.tokens.GetToken(admin(t), &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: seeded.GetTokenId()})
	if err != nil {
		t.Fatal(err)
	}
	if !got.GetToken().GetCreatedForSeed() {
		t.Error("GetToken after the pick: created_for_seed = false")
	}
	if v := e.validate(t, secret); !v.GetToken().GetCreatedForSeed() {
		t.Error("ValidateToken: created_for_seed = false")
	}
	for _, tok := range e.allTokens(t, "acme") {
		if want := tok.GetTokenId() == seeded.GetTokenId(); tok.GetCreatedForSeed() != want {
			t.Errorf("ListTokens: token %s created_for_seed = %v, want %v", tok.GetTokenId(), tok.GetCreatedForSeed(), want)
		}
	}
	creates := 0
	for _, ev := range e.events(t) {
		if ev.GetAction() != "token.create" {
			continue
		}
		creates++
		if want := ev.GetTarget() == seeded.GetTokenId(); ev.GetCreatedForSeed() != want {
			t.Errorf("token.create event for %s: created_for_seed = %v, want %v", ev.GetTarget(), ev.GetCreatedForSeed(), want)
		}
	}
	if creates != 2 {
		t.Errorf("%d token.create events; want 2", creates)
	}
	next := e.validate(t, e.refresh(t, secret)).GetToken()
	if next.GetCreatedForSeed() {
		t.Error("the token a refresh made is marked as created for a seed")
	}
}
