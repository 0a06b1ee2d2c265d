package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// testLookupTokenWithPolicy: validation reads the token, its user's
// membership and its workspace's policy together, and sees each change
// of them as soon as the write that made it returns.
func testLookupTokenWithPolicy(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	ctx := t.Context()
	addWorkspace(t, s, "acme", "ann")
	rec := addToken(t, s, "acme", "ann", "tok-1")
	h := [32]byte(rec.SecretHash)
	check := func(what string, wantMember bool, wantPolicy *pb.TokenPolicy) {
		t.Helper()
		got, member, policy, err := s.LookupTokenWithPolicy(ctx, h)
		if err != nil {
			t.Fatalf("%s: LookupTokenWithPolicy = %v", what, err)
		}
		if got.GetToken().GetTokenId() != "tok-1" || !bytes.Equal(got.GetSecretHash(), rec.SecretHash) || len(got.GetSealedSecret()) != 0 {
			t.Errorf("%s: record %v; want tok-1 with its hash and without its sealed secret", what, got)
		}
		if member != wantMember || !proto.Equal(policy, wantPolicy) {
			t.Errorf("%s: member %v policy %v; want %v, %v", what, member, policy, wantMember, wantPolicy)
		}
	}
	check("no policy", true, nil)
	policy := &pb.TokenPolicy{MaxLifetime: durationpb.New(24 * time.Hour)}
	if _, err := s.UpdateWorkspace(ctx, "acme", func(ws *pb.Workspace) error { ws.TokenPolicy = policy; return nil }); err != nil {
		t.Fatalf("UpdateWorkspace = %v", err)
	}
	check("policy set", true, policy)
	if _, err := s.RemoveMember(ctx, "acme", "ann", t0); err != nil {
		t.Fatalf("RemoveMember = %v", err)
	}
	got, member, _, err := s.LookupTokenWithPolicy(ctx, h)
	if err != nil {
		t.Fatalf("after RemoveMember: LookupTokenWithPolicy = %v", err)
	}
	if member && got.GetToken().GetRevokeTime() == nil {
		t.Errorf("after RemoveMember: a member's unrevoked token; want it to fail validation")
	}
	if _, _, _, err := s.LookupTokenWithPolicy(ctx, hashOf("no such secret")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("LookupTokenWithPolicy(unknown) = %v; want ErrNotFound", err)
	}
}

// testGetTokenPolicy reads a workspace's policy: nil without one,
// ErrNotFound for a workspace that does not exist.
func testGetTokenPolicy(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	ctx := t.Context()
	addWorkspace(t, s, "acme")
	if p, err := s.GetTokenPolicy(ctx, "acme"); err != nil || p != nil {
		t.Errorf("GetTokenPolicy(no policy) = %v, %v; want nil, nil", p, err)
	}
	policy := &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Hour), DefaultLifetime: durationpb.New(time.Minute), RequireExpiry: true}
	if _, err := s.UpdateWorkspace(ctx, "acme", func(ws *pb.Workspace) error { ws.TokenPolicy = policy; return nil }); err != nil {
		t.Fatalf("UpdateWorkspace = %v", err)
	}
	if p, err := s.GetTokenPolicy(ctx, "acme"); err != nil || !proto.Equal(p, policy) {
		t.Errorf("GetTokenPolicy = %v, %v; want %v", p, err, policy)
	}
	if _, err := s.GetTokenPolicy(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetTokenPolicy(unknown workspace) = %v; want ErrNotFound", err)
	}
}

// testKeyChecks: start-up's key checks round-trip, a stored value is
// never replaced (the whole call fails and stores nothing) until it is
// deleted, an empty value is refused, and SealedSample finds a stored
// sealed secret or says there is none.
func testKeyChecks(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	ctx := t.Context()
	if got, err := s.KeyChecks(ctx); err != nil || len(got) != 0 {
		t.Fatalf("KeyChecks(new store) = %v, %v; want none", got, err)
	}
	if _, err := s.SealedSample(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SealedSample(new store) = %v; want ErrNotFound", err)
	}
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{0: []byte("zero"), 7: []byte("seven")}); err != nil {
		t.Fatalf("SetKeyChecks = %v", err)
	}
	// A stored value is never replaced, and the call stores nothing then.
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{7: []byte("seven again"), 12: []byte("twelve")}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("SetKeyChecks(7 again, 12) = %v; want ErrAlreadyExists", err)
	}
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{12: []byte("twelve")}); err != nil {
		t.Fatalf("SetKeyChecks(12) = %v", err)
	}
	// Deleted, a key's value can be stored anew.
	if err := s.DeleteKeyCheck(ctx, 0); err != nil {
		t.Fatalf("DeleteKeyCheck(0) = %v", err)
	}
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{0: []byte("zero again")}); err != nil {
		t.Fatalf("SetKeyChecks(0 after its deletion) = %v", err)
	}
	got, err := s.KeyChecks(ctx)
	if err != nil {
		t.Fatalf("KeyChecks = %v", err)
	}
	want := map[uint32]string{0: "zero again", 7: "seven", 12: "twelve"}
	if len(got) != len(want) {
		t.Errorf("KeyChecks = %d entries; want %d (%v)", len(got), len(want), want)
	}
	for id, v := range want {
		if string(got[id]) != v {
			t.Errorf("KeyChecks[%d] = %q; want %q", id, got[id], v)
		}
	}
	if err := s.SetKeyChecks(ctx, map[uint32][]byte{3: nil}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("SetKeyChecks(empty value) = %v; want ErrInvalid", err)
	}
	addWorkspace(t, s, "acme", "ann")
	rec := addToken(t, s, "acme", "ann", "tok-1")
	sample, err := s.SealedSample(ctx)
	if err != nil || !bytes.Equal(sample.Value, rec.SealedSecret) || string(sample.AAD) != "tok-1" {
		t.Errorf("SealedSample = %q / %q, %v; want tok-1's sealed secret", sample.Value, sample.AAD, err)
	}
}

// testClose: a closed store refuses every call with ErrClosed, and a
// second Close says so too.
func testClose(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"Ping":         func() error { return s.Ping(ctx) },
		"GetWorkspace": func() error { _, err := s.GetWorkspace(ctx, "acme"); return err },
		"CreateWorkspace": func() error {
			return s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "beta"})
		},
		"LookupTokenWithPolicy": func() error { _, _, _, err := s.LookupTokenWithPolicy(ctx, hashOf("x")); return err },
		"Close":                 s.Close,
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
}
