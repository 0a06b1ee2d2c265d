package server_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/server"
)

const day = 24 * time.Hour

func (e *env) setPolicy(t *testing.T, ws string, p *pb.TokenPolicy, paths ...string) *pb.Workspace {
	t.Helper()
	if len(paths) == 0 {
		paths = []string{"token_policy"}
	}
	got, err := e.workspaces.UpdateWorkspace(admin(t), &pb.UpdateWorkspaceRequest{
		Workspace: &pb.Workspace{WorkspaceId: ws, TokenPolicy: p}, UpdateMask: mask(paths...),
	})
	if err != nil {
		t.Fatalf("UpdateWorkspace(%v): %v", paths, err)
	}
	return got.GetWorkspace()
}

// TestWorkspacePolicy: the workspace token policy is enforced at create,
// update, roll and use, and a lowered limit ends tokens that outlive it.
func TestWorkspacePolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	ctx := admin(t)
	start := e.clock.Now()
	_, longSecret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(start.Add(90 * day))})
	_, foreverSecret := e.token(t, "acme", "alice", nil)

	ws := e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: durationpb.New(30 * day), DefaultLifetime: durationpb.New(7 * day)})
	if ws.GetDisplayName() != "acme" || ws.GetTokenPolicy().GetMaxLifetime().AsDuration() != 30*day {
		t.Errorf("UpdateWorkspace = %v", ws)
	}
	got, err := e.workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"})
	if err != nil || !proto.Equal(got.GetWorkspace(), ws) {
		t.Errorf("GetWorkspace = %v, %v; want %v", got, err, ws)
	}

	// The SDK and access checks see the end the policy sets, so the SDK
	// refreshes in time.
	info, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: foreverSecret})
	if err != nil {
		t.Fatal(err)
	}
	if got := info.GetExpiration().AsTime(); !got.Equal(start.Add(30 * day)) {
		t.Errorf("SDK info expiration of a never-expiring token under a 30-day policy = %v, want %v", got, start.Add(30*day))
	}
	e.workspace(t, "pubs", nil, map[string]pb.Visibility{"z": public})
	a, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: longSecret, Zoo: "pubs/z", Operation: dl})
	if err != nil || !a.GetAllowed() || !a.GetExpireTime().AsTime().Equal(start.Add(30*day)) {
		t.Errorf("CheckAccess of a 90-day token under a 30-day policy = %v, %v; want allowed, expiring at %v", a, err, start.Add(30*day))
	}

	// Create: the default applies, the maximum is enforced.
	def, _ := e.token(t, "acme", "alice", nil)
	if got := def.GetExpireTime().AsTime(); !got.Equal(start.Add(7 * day)) {
		t.Errorf("token without expiry got %v, want the 7-day default", got)
	}
	_, err = e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", ExpireTime: timestamppb.New(start.Add(31 * day))})
	wantInvalid(t, "create beyond max_lifetime", err, "expire_time")

	// Use: tokens created before the policy stop at the new limit.
	e.clock.Advance(30*day - time.Second)
	if v := e.validate(t, longSecret); !v.GetValid() {
		t.Errorf("old token before the new limit: %v; want valid", v)
	}
	e.clock.Advance(time.Second)
	for name, s := range map[string]string{"90-day": longSecret, "never-expiring": foreverSecret} {
		if v := e.validate(t, s); v.GetReason() != pb.Reason_REASON_EXPIRED || v.GetToken().GetState() != pb.TokenState_TOKEN_STATE_EXPIRED {
			t.Errorf("%s token at the new limit: %v; want EXPIRED", name, v)
		}
	}
	// Lifting the limit lets them work again: the limit is applied at use,
	// the stored expiry is unchanged.
	e.setPolicy(t, "acme", nil, "token_policy.max_lifetime")
	if v := e.validate(t, longSecret); !v.GetValid() {
		t.Errorf("old token after the limit was lifted: %v; want valid", v)
	}

	// Update and roll stay within the policy.
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: durationpb.New(60 * day)})
	tok, _ := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(e.clock.Now().Add(10 * day))})
	_, err = e.tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "acme", TokenId: tok.GetTokenId(),
		ExpireTime: timestamppb.New(e.clock.Now().Add(61 * day))}, UpdateMask: mask("expire_time")})
	wantInvalid(t, "update beyond max_lifetime", err, "token.expire_time")
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: durationpb.New(5 * day)})
	e.clock.Advance(5 * day)
	if _, err := e.tokens.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("roll of a token past the lowered limit: %v; want FailedPrecondition", err)
	}
	fresh, _ := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(e.clock.Now().Add(2 * day))})
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: durationpb.New(day)})
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: durationpb.New(5 * day)})
	rolled, err := e.tokens.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: fresh.GetTokenId()})
	if err != nil {
		t.Fatalf("RollToken: %v", err)
	}
	if got := rolled.GetToken().GetExpireTime().AsTime().Sub(e.clock.Now()); got != 2*day {
		t.Errorf("rolled lifetime = %v, want the old 2 days", got)
	}

	// require_expiry.
	e.setPolicy(t, "acme", &pb.TokenPolicy{RequireExpiry: true})
	_, err = e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"})
	wantInvalid(t, "create without expiry under require_expiry", err, "expire_time")
}

func TestFamilyLifetime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxFamilyLifetime: durationpb.New(10 * day)})
	start := e.clock.Now()
	_, secret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(start.Add(4 * day))})
	// The SDK refreshes within the last hour; each refresh starts a fresh
	// 4-day lifetime, until the family's 10 days are up.
	var ends []time.Time
	for range 4 {
		e.clock.Advance(4*day - 30*time.Minute)
		resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
		if err != nil {
			ends = append(ends, e.clock.Now())
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("refresh after the family's end: %v; want Unauthenticated", err)
			}
			break
		}
		secret = resp.GetValue()
		info, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret})
		if err != nil {
			t.Fatal(err)
		}
		if end := info.GetExpiration().AsTime(); end.After(start.Add(10 * day)) {
			t.Errorf("refreshed token expires %v, after the family's end %v", end, start.Add(10*day))
		}
	}
	if len(ends) != 1 {
		t.Fatalf("the refresh chain never ended")
	}
	if v := e.validate(t, secret); v.GetReason() != pb.Reason_REASON_EXPIRED {
		t.Errorf("last token of the family: %v; want EXPIRED", v)
	}
}

func TestUpdateWorkspaceBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) { c.MaxTokenLifetime = 90 * day })
	e.workspace(t, "acme", nil, nil)
	ctx := admin(t)
	d := durationpb.New
	tests := []struct {
		name  string
		req   *pb.UpdateWorkspaceRequest
		code  codes.Code
		field string
	}{
		{"no workspace", &pb.UpdateWorkspaceRequest{UpdateMask: mask("display_name")}, codes.InvalidArgument, "workspace"},
		{"no mask", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme"}}, codes.InvalidArgument, "update_mask"},
		{"unknown path", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme"}, UpdateMask: mask("create_time")}, codes.InvalidArgument, "update_mask"},
		{"unknown policy path", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme"}, UpdateMask: mask("token_policy.ttl")}, codes.InvalidArgument, "update_mask"},
		{"bad id", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "Acme"}, UpdateMask: mask("display_name")}, codes.InvalidArgument, "workspace.workspace_id"},
		{"long name", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", DisplayName: strings.Repeat("x", 257)}, UpdateMask: mask("display_name")}, codes.InvalidArgument, "workspace.display_name"},
		{"zero lifetime", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxLifetime: d(0)}}, UpdateMask: mask("token_policy")}, codes.InvalidArgument, "workspace.token_policy.max_lifetime"},
		{"over the server ceiling", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxLifetime: d(91 * day)}}, UpdateMask: mask("token_policy.max_lifetime")}, codes.InvalidArgument, "workspace.token_policy.max_lifetime"},
		{"default over max", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxLifetime: d(day), DefaultLifetime: d(2 * day)}}, UpdateMask: mask("token_policy")}, codes.InvalidArgument, "workspace.token_policy.default_lifetime"},
		{"missing workspace", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "nope"}, UpdateMask: mask("display_name")}, codes.NotFound, ""},
		{"full replacement", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", DisplayName: "x"}, UpdateMask: mask("*")}, codes.InvalidArgument, "update_mask"},
		{"full replacement beside a path", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", DisplayName: "x"}, UpdateMask: mask("display_name", "*")}, codes.InvalidArgument, "update_mask"},
		{"empty path", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme"}, UpdateMask: mask("")}, codes.InvalidArgument, "update_mask"},
		{"policy wildcard", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme"}, UpdateMask: mask("token_policy.*")}, codes.InvalidArgument, "update_mask"},
		{"1ns lifetime", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxLifetime: d(time.Nanosecond)}}, UpdateMask: mask("token_policy")}, codes.InvalidArgument, "workspace.token_policy.max_lifetime"},
		{"59s default", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{DefaultLifetime: d(59 * time.Second)}}, UpdateMask: mask("token_policy.default_lifetime")}, codes.InvalidArgument, "workspace.token_policy.default_lifetime"},
		{"30s family", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxFamilyLifetime: d(30 * time.Second)}}, UpdateMask: mask("token_policy")}, codes.InvalidArgument, "workspace.token_policy.max_family_lifetime"},
		{"negative family", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxFamilyLifetime: d(-time.Hour)}}, UpdateMask: mask("token_policy.max_family_lifetime")}, codes.InvalidArgument, "workspace.token_policy.max_family_lifetime"},
		{"huge family", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxFamilyLifetime: &durationpb.Duration{Seconds: 315576000000}}}, UpdateMask: mask("token_policy")}, codes.InvalidArgument, "workspace.token_policy.max_family_lifetime"},
		{"invalid duration", &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxLifetime: &durationpb.Duration{Seconds: 3600, Nanos: -1}}}, UpdateMask: mask("token_policy")}, codes.InvalidArgument, "workspace.token_policy.max_lifetime"},
	}
	for _, tt := range tests {
		_, err := e.workspaces.UpdateWorkspace(ctx, tt.req)
		if tt.field != "" {
			wantInvalid(t, tt.name, err, tt.field)
		} else if status.Code(err) != tt.code {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.code)
		}
		got, err := e.workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"})
		if err != nil || got.GetWorkspace().GetTokenPolicy() != nil || got.GetWorkspace().GetDisplayName() != "acme" {
			t.Errorf("%s: a refused update changed the workspace: %v, %v", tt.name, got, err)
		}
	}
	// The full replacement would have cleared the policy: its refusal names
	// the paths a client may name instead.
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: d(day)}, "token_policy")
	_, err := e.workspaces.UpdateWorkspace(ctx, &pb.UpdateWorkspaceRequest{Workspace: &pb.Workspace{WorkspaceId: "acme", DisplayName: "x"}, UpdateMask: mask("*")})
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "display_name") || !strings.Contains(msg, "token_policy") {
		t.Errorf("update_mask=*: %v; want the allowed paths named", err)
	}
	if got, err := e.workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"}); err != nil || got.GetWorkspace().GetTokenPolicy().GetMaxLifetime().AsDuration() != day {
		t.Errorf("update_mask=* changed the policy: %v, %v", got, err)
	}
	// A subfield path changes only that field.
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: d(day), RequireExpiry: true}, "token_policy")
	ws := e.setPolicy(t, "acme", &pb.TokenPolicy{DefaultLifetime: d(time.Hour), MaxLifetime: d(7 * day)}, "token_policy.default_lifetime")
	want := &pb.TokenPolicy{MaxLifetime: d(day), RequireExpiry: true, DefaultLifetime: d(time.Hour)}
	if !proto.Equal(ws.GetTokenPolicy(), want) {
		t.Errorf("policy after a subfield update = %v, want %v", ws.GetTokenPolicy(), want)
	}
}
