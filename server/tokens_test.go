package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/server"
	"tokenauthority/token"
)

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	ctx := admin(t)
	exp := e.clock.Now().Add(24 * time.Hour)
	created, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "laptop", ExpireTime: timestamppb.New(exp)})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	secret := created.GetSecret()
	if err := token.Check(secret); err != nil {
		t.Fatalf("secret %q does not pass token.Check: %v", token.Mask(secret), err)
	}
	want := &pb.Token{
		TokenId:     created.GetToken().GetTokenId(),
		WorkspaceId: "acme",
		UserId:      "alice",
		Description: "laptop",
		MaskedKey:   token.Mask(secret),
		CreateTime:  timestamppb.New(e.clock.Now()),
		ExpireTime:  timestamppb.New(exp),
		State:       pb.TokenState_TOKEN_STATE_ACTIVE,
		FamilyId:    created.GetToken().GetTokenId(),
		// No workspace policy: the token's own expiry is its end.
		EffectiveExpireTime: timestamppb.New(exp),
	}
	if diff := cmp.Diff(want, created.GetToken(), protocmp.Transform()); diff != "" {
		t.Errorf("created token (-want +got):\n%s", diff)
	}

	list, err := e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme"})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if diff := cmp.Diff([]*pb.Token{want}, list.GetTokens(), protocmp.Transform()); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	got, err := e.tokens.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: want.GetTokenId()})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if diff := cmp.Diff(want, got.GetToken(), protocmp.Transform()); diff != "" {
		t.Errorf("get (-want +got):\n%s", diff)
	}
	for name, m := range map[string]proto.Message{"list": list, "get": got} {
		if text := protojson.Format(m); strings.Contains(text, secret[len(token.Prefix):len(token.Prefix)+8]) {
			t.Errorf("%s output contains part of the secret: %s", name, text)
		}
	}

	revealed, err := e.tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: want.GetTokenId()})
	if err != nil || revealed.GetSecret() != secret {
		t.Fatalf("RevealToken = %v; want the created secret", err)
	}

	v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret})
	if err != nil || !v.GetValid() || v.GetReason() != pb.Reason_REASON_VALID || v.GetToken().GetTokenId() != want.GetTokenId() {
		t.Fatalf("ValidateToken = %v, %v; want valid", v, err)
	}

	revoked, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: want.GetTokenId()})
	if err != nil || revoked.GetToken().GetState() != pb.TokenState_TOKEN_STATE_REVOKED || revoked.GetToken().GetRevokeTime() == nil {
		t.Fatalf("RevokeToken = %v, %v; want a revoked token", revoked, err)
	}
	v, err = e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret})
	if err != nil || v.GetValid() || v.GetReason() != pb.Reason_REASON_REVOKED {
		t.Errorf("ValidateToken after revoke = %v, %v; want REASON_REVOKED", v, err)
	}
	if _, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: want.GetTokenId()}); err != nil {
		t.Errorf("second RevokeToken: %v; want the token unchanged", err)
	}
	if _, err := e.tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: want.GetTokenId()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RevealToken of a revoked token: %v; want FailedPrecondition", err)
	}
	if list, err = e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatalf("ListTokens after revoke: %v", err)
	}
	if len(list.GetTokens()) != 0 {
		t.Errorf("ListTokens after revoke lists %d tokens; want 0", len(list.GetTokens()))
	}
	if list, err = e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme", ShowRevoked: true}); err != nil {
		t.Fatalf("ListTokens(show_revoked): %v", err)
	}
	if len(list.GetTokens()) != 1 || list.GetTokens()[0].GetState() != pb.TokenState_TOKEN_STATE_REVOKED {
		t.Errorf("ListTokens(show_revoked) = %v; want the revoked token", list.GetTokens())
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	tok, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(e.clock.Now().Add(time.Hour))})
	_, forever := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: &timestamppb.Timestamp{Seconds: -62135596800}})

	e.clock.Advance(time.Hour - time.Second)
	if v := e.validate(t, secret); !v.GetValid() {
		t.Errorf("one second before expiry: %v; want valid", v)
	}
	e.clock.Advance(time.Second)
	v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret})
	if err != nil || v.GetValid() || v.GetReason() != pb.Reason_REASON_EXPIRED || v.GetToken().GetState() != pb.TokenState_TOKEN_STATE_EXPIRED {
		t.Errorf("at expiry: %v, %v; want REASON_EXPIRED", v, err)
	}
	got, err := e.tokens.GetToken(admin(t), &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if got.GetToken().GetState() != pb.TokenState_TOKEN_STATE_EXPIRED {
		t.Errorf("GetToken state = %v; want EXPIRED", got.GetToken().GetState())
	}
	e.clock.Advance(100 * 365 * 24 * time.Hour)
	if v := e.validate(t, forever); !v.GetValid() || v.GetToken().GetExpireTime() != nil {
		t.Errorf("a token created with 0001-01-01 as expiry: %v; want valid forever", v)
	}
}

func TestMaxTokenLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) { c.MaxTokenLifetime = 30 * 24 * time.Hour })
	e.workspace(t, "acme", []string{"alice"}, nil)
	now := e.clock.Now()
	for name, exp := range map[string]*timestamppb.Timestamp{"never": nil, "too far": timestamppb.New(now.Add(31 * 24 * time.Hour))} {
		_, err := e.tokens.CreateToken(admin(t), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", ExpireTime: exp})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v; want InvalidArgument", name, err)
		}
	}
	e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(now.Add(30 * 24 * time.Hour))})
}

func TestRemoveMemberRevokesTheirTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice", "bob"}, nil)
	e.workspace(t, "other", []string{"alice"}, nil)
	_, a1 := e.token(t, "acme", "alice", nil)
	_, a2 := e.token(t, "acme", "alice", nil)
	_, b := e.token(t, "acme", "bob", nil)
	_, elsewhere := e.token(t, "other", "alice", nil)

	resp, err := e.workspaces.RemoveMember(admin(t), &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "alice"})
	if err != nil || resp.GetRevokedTokenCount() != 2 {
		t.Fatalf("RemoveMember = %v, %v; want 2 tokens revoked", resp, err)
	}
	for secret, want := range map[string]bool{a1: false, a2: false, b: true, elsewhere: true} {
		v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret})
		if err != nil || v.GetValid() != want {
			t.Errorf("ValidateToken(%s) = %v, %v; want valid=%v", token.Mask(secret), v, err, want)
		}
	}
	if _, err := e.tokens.CreateToken(admin(t), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("CreateToken for a removed member: %v; want FailedPrecondition", err)
	}
	// Coming back does not bring old tokens back.
	if _, err := e.workspaces.AddMember(admin(t), &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	if v := e.validate(t, a1); v.GetValid() {
		t.Error("a token revoked by member removal works again after the user is re-added")
	}
}

// TestWorkspaceIsolation: nothing of workspace A is visible or changeable
// through workspace B's paths.
func TestWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "a", []string{"alice"}, nil)
	e.workspace(t, "b", []string{"bob"}, nil)
	tok, secret := e.token(t, "a", "alice", nil)
	ctx := admin(t)
	id := tok.GetTokenId()
	calls := map[string]func() error{
		"get": func() error {
			_, err := e.tokens.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: "b", TokenId: id})
			return err
		},
		"reveal": func() error {
			_, err := e.tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "b", TokenId: id})
			return err
		},
		"revoke": func() error {
			_, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "b", TokenId: id})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); status.Code(err) != codes.NotFound {
			t.Errorf("%s through workspace b: %v; want NotFound", name, err)
		}
	}
	list, err := e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "b", ShowRevoked: true})
	if err != nil || len(list.GetTokens()) != 0 {
		t.Errorf("ListTokens(b) = %v, %v; want empty", list, err)
	}
	if _, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "b", UserId: "alice"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("CreateToken in b for a member of a only: %v; want FailedPrecondition", err)
	}
	if v := e.validate(t, secret); !v.GetValid() {
		t.Errorf("token of a after attempts through b: %v; want still valid", v)
	}
}

func TestRevealDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) { c.Reveal = false })
	e.workspace(t, "acme", []string{"alice"}, nil)
	tok, secret := e.token(t, "acme", "alice", nil)
	_, err := e.tokens.RevealToken(admin(t), &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RevealToken with reveal off: %v; want FailedPrecondition", err)
	}
	if v := e.validate(t, secret); !v.GetValid() {
		t.Errorf("hash-only token does not validate: %v", v)
	}
}

func TestTokenPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	var ids []string
	for i := 0; i < 7; i++ {
		tok, _ := e.token(t, "acme", "alice", nil)
		ids = append([]string{tok.GetTokenId()}, ids...) // newest first
		e.clock.Advance(time.Millisecond)
	}
	var got []string
	req := &pb.ListTokensRequest{WorkspaceId: "acme", PageSize: 3}
	for pages := 0; ; pages++ {
		resp, err := e.tokens.ListTokens(admin(t), req)
		if err != nil {
			t.Fatalf("ListTokens: %v", err)
		}
		for _, tok := range resp.GetTokens() {
			got = append(got, tok.GetTokenId())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}
	// A page token of another list is refused.
	ws, err := e.workspaces.ListWorkspaces(admin(t), &pb.ListWorkspacesRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.workspace(t, "zeta", nil, nil)
	if ws, err = e.workspaces.ListWorkspaces(admin(t), &pb.ListWorkspacesRequest{PageSize: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = e.tokens.ListTokens(admin(t), &pb.ListTokensRequest{WorkspaceId: "acme", PageToken: ws.GetNextPageToken()})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("ListTokens with a workspace page token: %v; want InvalidArgument", err)
	}
}

// TestBadInput: every malformed request is InvalidArgument (or NotFound /
// FailedPrecondition where the input is well-formed), never Internal, and
// leaves stored data as it was.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, map[string]pb.Visibility{"pub": public})
	tok, secret := e.token(t, "acme", "alice", nil)
	ctx := admin(t)
	past := timestamppb.New(e.clock.Now().Add(-time.Second))
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"workspace id uppercase", func() error {
			_, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "Acme"})
			return err
		}, codes.InvalidArgument},
		{"workspace id too long", func() error {
			_, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: strings.Repeat("a", 64)})
			return err
		}, codes.InvalidArgument},
		{"workspace id leading hyphen", func() error {
			_, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "-a"})
			return err
		}, codes.InvalidArgument},
		{"workspace exists", func() error {
			_, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"})
			return err
		}, codes.AlreadyExists},
		{"member exists", func() error {
			_, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"})
			return err
		}, codes.AlreadyExists},
		{"member of missing workspace", func() error {
			_, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "nope", UserId: "alice"})
			return err
		}, codes.NotFound},
		{"zoo without visibility", func() error {
			_, err := e.workspaces.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: "acme", ZooId: "z"})
			return err
		}, codes.InvalidArgument},
		{"description too long", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: strings.Repeat("é", 257)})
			return err
		}, codes.InvalidArgument},
		{"description with control characters", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "line\nbreak"})
			return err
		}, codes.InvalidArgument},
		{"expiry in the past", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", ExpireTime: past})
			return err
		}, codes.InvalidArgument},
		{"expiry out of range", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", ExpireTime: &timestamppb.Timestamp{Seconds: 1 << 62}})
			return err
		}, codes.InvalidArgument},
		{"short seed", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Seed: "short"})
			return err
		}, codes.InvalidArgument},
		{"token for a non-member", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "mallory"})
			return err
		}, codes.FailedPrecondition},
		{"token id malformed", func() error {
			_, err := e.tokens.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: "../../etc"})
			return err
		}, codes.InvalidArgument},
		{"token id unknown", func() error {
			_, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: strings.Repeat("0", 26)})
			return err
		}, codes.NotFound},
		{"negative page size", func() error {
			_, err := e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme", PageSize: -1})
			return err
		}, codes.InvalidArgument},
		{"garbage page token", func() error {
			_, err := e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme", PageToken: "%%%"})
			return err
		}, codes.InvalidArgument},
		{"validate without secret", func() error {
			_, err := e.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{})
			return err
		}, codes.InvalidArgument},
		{"delete non-empty workspace", func() error {
			_, err := e.workspaces.DeleteWorkspace(ctx, &pb.DeleteWorkspaceRequest{WorkspaceId: "acme"})
			return err
		}, codes.FailedPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if got := status.Code(err); got != tc.want {
				t.Errorf("got %v; want %v", err, tc.want)
			}
			if msg := status.Convert(err).Message(); msg == "" || strings.Contains(msg, secret) {
				t.Errorf("error message %q is empty or holds a secret", msg)
			}
		})
	}
	v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret})
	if err != nil || !v.GetValid() || v.GetToken().GetTokenId() != tok.GetTokenId() {
		t.Errorf("after bad requests the token is %v, %v; want unchanged and valid", v, err)
	}
	ws, err := e.workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"})
	if err != nil || ws.GetWorkspace().GetDisplayName() != "acme" {
		t.Errorf("workspace after bad requests: %v, %v", ws, err)
	}
}

func TestWorkspaceAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice", "bob"}, map[string]pb.Visibility{"pub": public, "priv": private})
	ctx := admin(t)
	members, err := e.workspaces.ListMembers(ctx, &pb.ListMembersRequest{WorkspaceId: "acme"})
	if err != nil || len(members.GetMembers()) != 2 || members.GetMembers()[0].GetUserId() != "alice" {
		t.Errorf("ListMembers = %v, %v", members, err)
	}
	zoos, err := e.workspaces.ListZoos(ctx, &pb.ListZoosRequest{WorkspaceId: "acme"})
	if err != nil || len(zoos.GetZoos()) != 2 {
		t.Errorf("ListZoos = %v, %v", zoos, err)
	}
	z, err := e.workspaces.UpdateZoo(ctx, &pb.UpdateZooRequest{WorkspaceId: "acme", ZooId: "pub", Visibility: private})
	if err != nil || z.GetZoo().GetVisibility() != private {
		t.Errorf("UpdateZoo = %v, %v", z, err)
	}
	if _, err := e.workspaces.DeleteZoo(ctx, &pb.DeleteZooRequest{WorkspaceId: "acme", ZooId: "pub"}); err != nil {
		t.Errorf("DeleteZoo: %v", err)
	}
	if _, err := e.workspaces.GetZoo(ctx, &pb.GetZooRequest{WorkspaceId: "acme", ZooId: "pub"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetZoo after delete: %v; want NotFound", err)
	}
	_, secret := e.token(t, "acme", "alice", nil)
	if _, err := e.workspaces.DeleteWorkspace(ctx, &pb.DeleteWorkspaceRequest{WorkspaceId: "acme", Force: true}); err != nil {
		t.Fatalf("DeleteWorkspace(force): %v", err)
	}
	if v := e.validate(t, secret); v.GetValid() {
		t.Error("a token of a deleted workspace still validates")
	}
	if _, err := e.workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetWorkspace after delete: %v; want NotFound", err)
	}
}

func TestOversizedRequestIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.workspaces.CreateWorkspace(admin(t), &pb.CreateWorkspaceRequest{WorkspaceId: "acme", DisplayName: strings.Repeat("x", 70<<10)})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a 70 KiB request: %v; want ResourceExhausted", err)
	}
	if _, err := e.workspaces.GetWorkspace(admin(t), &pb.GetWorkspaceRequest{WorkspaceId: "acme"}); status.Code(err) != codes.NotFound {
		t.Errorf("after the refused request: %v; want NotFound (nothing stored)", err)
	}
}
