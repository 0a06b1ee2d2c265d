package server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// restGet GETs path with the admin credential and decodes the JSON body.
func restGet(t *testing.T, base, path string) map[string]any {
	t.Helper()
	code, m := restJSON(t, http.MethodGet, base+path, teststack.AdminSecret)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %v", path, code, m)
	}
	return m
}

// TestEffectiveExpireTime: under a workspace policy every returned token
// shows the end that applies to it, also when it has no expiry of its own,
// and expire_before lists run by that end, soonest first, over gRPC and
// REST.
func TestEffectiveExpireTime(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	ctx := teststack.As(t.Context(), teststack.AdminSecret)
	day := 24 * time.Hour
	t0 := s.Clock.Now()
	for _, ws := range []string{"acme", "open"} {
		if _, err := s.Workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: ws, DisplayName: ws}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: ws, UserId: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(ws string, exp *timestamppb.Timestamp) (*pb.Token, string) {
		t.Helper()
		s.Clock.Advance(time.Millisecond)
		resp, err := s.Tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: ws, UserId: "alice", ExpireTime: exp})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetToken(), resp.GetSecret()
	}
	a, aSecret := create("acme", nil)                      // no expiry of its own
	b, _ := create("acme", timestamppb.New(t0.Add(3*day))) // its own expiry comes first
	never, _ := create("open", nil)
	s.Clock.Advance(day)
	if _, err := s.Workspaces.UpdateWorkspace(ctx, &pb.UpdateWorkspaceRequest{
		Workspace:  &pb.Workspace{WorkspaceId: "acme", TokenPolicy: &pb.TokenPolicy{MaxLifetime: durationpb.New(5 * day), DefaultLifetime: durationpb.New(4 * day)}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"token_policy"}},
	}); err != nil {
		t.Fatal(err)
	}
	aEnd := a.GetCreateTime().AsTime().Add(5 * day)
	bEnd := t0.Add(3 * day)
	c, _ := create("acme", nil) // default_lifetime: 4 days from now
	cEnd := c.GetCreateTime().AsTime().Add(4 * day)
	want := func(what string, tok *pb.Token, end time.Time) {
		t.Helper()
		got := tok.GetEffectiveExpireTime()
		if end.IsZero() {
			if got != nil {
				t.Errorf("%s: effective_expire_time = %v, want none", what, got.AsTime())
			}
			return
		}
		if got == nil || !got.AsTime().Equal(end) {
			t.Errorf("%s: effective_expire_time = %v, want %v", what, got, end)
		}
	}
	want("CreateToken under a default lifetime", c, cEnd)
	get := func(ws string, tok *pb.Token) *pb.Token {
		t.Helper()
		resp, err := s.Tokens.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: ws, TokenId: tok.GetTokenId()})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetToken()
	}
	want("GetToken without an expiry of its own", get("acme", a), aEnd)
	want("GetToken with an earlier own expiry", get("acme", b), bEnd)
	want("GetToken in a workspace without a policy", get("open", never), time.Time{})
	if v, err := s.Tokens.ValidateToken(teststack.As(t.Context(), teststack.ValidatorSecret), &pb.ValidateTokenRequest{Secret: aSecret}); err != nil {
		t.Fatal(err)
	} else {
		want("ValidateToken", v.GetToken(), aEnd)
	}
	if info, err := pb.NewSelfServiceClient(s.Conn).GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: aSecret}); err != nil || !info.GetExpiration().AsTime().Equal(aEnd) {
		t.Errorf("SDK info expiration = %v, %v; want the policy's end %v", info.GetExpiration(), err, aEnd)
	}
	up, err := s.Tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "acme", TokenId: a.GetTokenId(), Description: "ci"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
	if err != nil {
		t.Fatal(err)
	}
	want("UpdateToken", up.GetToken(), aEnd)

	// The expiring list: by the end that applies, soonest first, also
	// page by page, over gRPC and REST.
	week := timestamppb.New(s.Clock.Now().Add(7 * day))
	var got []string
	req := &pb.ListTokensRequest{WorkspaceId: "acme", ExpireBefore: week, PageSize: 1}
	for range 5 {
		resp, err := s.Tokens.ListTokens(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range resp.GetTokens() {
			got = append(got, tok.GetTokenId())
			want("ListTokens "+tok.GetTokenId(), tok, map[string]time.Time{a.GetTokenId(): aEnd, b.GetTokenId(): bEnd, c.GetTokenId(): cEnd}[tok.GetTokenId()])
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	// Ends: b at 3 days (its own), a at 5 days + 1ms (the policy), c 3ms
	// later (its default lifetime): the newest token comes last, which a
	// list by creation would not do.
	if !cEnd.After(aEnd) || !aEnd.After(bEnd) {
		t.Fatalf("fixture: ends b %v, a %v, c %v are not in order", bEnd, aEnd, cEnd)
	}
	wantOrder := []string{b.GetTokenId(), a.GetTokenId(), c.GetTokenId()}
	if len(got) != 3 || got[0] != wantOrder[0] || got[1] != wantOrder[1] || got[2] != wantOrder[2] {
		t.Errorf("expiring list = %v, want %v (soonest end first)", got, wantOrder)
	}
	m := restGet(t, s.HTTPURL, "/v1/workspaces/acme/tokens?expire_before="+url.QueryEscape(week.AsTime().Format(time.RFC3339)))
	toks, _ := m["tokens"].([]any)
	if len(toks) != 3 {
		t.Fatalf("REST expiring list = %v", m)
	}
	for i, x := range toks {
		tok := x.(map[string]any)
		if tok["token_id"] != wantOrder[i] {
			t.Errorf("REST expiring list entry %d = %v, want %s", i, tok["token_id"], wantOrder[i])
		}
		if tok["effective_expire_time"] == nil {
			t.Errorf("REST token %v has no effective_expire_time", tok["token_id"])
		}
	}
	ra := restGet(t, s.HTTPURL, "/v1/workspaces/acme/tokens/"+a.GetTokenId())
	if ra["expire_time"] != nil || ra["effective_expire_time"] != aEnd.Format(time.RFC3339Nano) {
		t.Errorf("REST token without its own expiry: expire_time %v, effective_expire_time %v; want null and %s", ra["expire_time"], ra["effective_expire_time"], aEnd.Format(time.RFC3339Nano))
	}
	if rn := restGet(t, s.HTTPURL, "/v1/workspaces/open/tokens/"+never.GetTokenId()); rn["effective_expire_time"] != nil {
		t.Errorf("REST token that never ends: effective_expire_time %v, want null", rn["effective_expire_time"])
	}
	if _, err := s.Tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme", ExpireBefore: week, PageToken: "bm90LWEtcGFnZQ"}); err == nil {
		t.Error("a made-up page token was accepted")
	}

	// Roll and revoke answer the end too.
	rolled, err := s.Tokens.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: a.GetTokenId()})
	if err != nil {
		t.Fatal(err)
	}
	want("RollToken", rolled.GetToken(), s.Clock.Now().Add(4*day))
	rev, err := s.Tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: c.GetTokenId()})
	if err != nil {
		t.Fatal(err)
	}
	want("RevokeToken", rev.GetToken(), cEnd)
	batch, err := s.Tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", TokenIds: []string{rolled.GetToken().GetTokenId()}})
	if err != nil || len(batch.GetTokens()) == 0 {
		t.Fatalf("RevokeTokens = %v, %v", batch, err)
	}
	for _, tok := range batch.GetTokens() {
		if tok.GetEffectiveExpireTime() == nil {
			t.Errorf("RevokeTokens: token %s has no effective_expire_time", tok.GetTokenId())
		}
	}
}
