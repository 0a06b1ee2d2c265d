package server_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func TestListTokensFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	now := e.clock.Now()
	in := func(d time.Duration) *pb.CreateTokenRequest {
		e.clock.Advance(time.Millisecond) // token ids sort by creation time
		return &pb.CreateTokenRequest{ExpireTime: timestamppb.New(now.Add(d))}
	}
	// Created oldest first, so lists (newest first) run backwards.
	expired, _ := e.token(t, "acme", "alice", in(time.Hour))
	soon1, _ := e.token(t, "acme", "alice", in(3*24*time.Hour))
	e.clock.Advance(time.Millisecond)
	never, _ := e.token(t, "acme", "alice", nil)
	later, _ := e.token(t, "acme", "alice", in(30*24*time.Hour))
	revoked, _ := e.token(t, "acme", "alice", in(2*24*time.Hour))
	soon2, _ := e.token(t, "acme", "alice", in(5*24*time.Hour))
	if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: revoked.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	week := timestamppb.New(e.clock.Now().Add(7 * 24 * time.Hour))
	ids := func(toks ...*pb.Token) []string {
		var out []string
		for _, t := range toks {
			out = append(out, t.GetTokenId())
		}
		return out
	}
	const (
		active   = pb.TokenState_TOKEN_STATE_ACTIVE
		expState = pb.TokenState_TOKEN_STATE_EXPIRED
		revState = pb.TokenState_TOKEN_STATE_REVOKED
	)
	tests := []struct {
		name string
		req  *pb.ListTokensRequest
		want []string
	}{
		{"default hides revoked", &pb.ListTokensRequest{}, ids(soon2, later, never, soon1, expired)},
		{"show_revoked", &pb.ListTokensRequest{ShowRevoked: true}, ids(soon2, revoked, later, never, soon1, expired)},
		{"active", &pb.ListTokensRequest{States: []pb.TokenState{active}}, ids(soon2, later, never, soon1)},
		{"expired", &pb.ListTokensRequest{States: []pb.TokenState{expState}}, ids(expired)},
		{"revoked without show_revoked", &pb.ListTokensRequest{States: []pb.TokenState{revState}}, ids(revoked)},
		{"expired or revoked", &pb.ListTokensRequest{States: []pb.TokenState{revState, expState, revState}}, ids(revoked, expired)},
		// Lists with expire_before run soonest end first.
		{"expiring within a week", &pb.ListTokensRequest{ExpireBefore: week}, ids(expired, soon1, soon2)},
		{"active and expiring within a week", &pb.ListTokensRequest{States: []pb.TokenState{active}, ExpireBefore: week}, ids(soon1, soon2)},
		{"expiring within a week, revoked too", &pb.ListTokensRequest{ExpireBefore: week, ShowRevoked: true}, ids(expired, revoked, soon1, soon2)},
		{"disabled (none yet)", &pb.ListTokensRequest{States: []pb.TokenState{pb.TokenState_TOKEN_STATE_DISABLED}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.WorkspaceId = "acme"
			// Page by one so that every page skips filtered records.
			tc.req.PageSize = 1
			var got []string
			for pages := 0; ; pages++ {
				resp, err := e.tokens.ListTokens(admin(t), tc.req)
				if err != nil {
					t.Fatalf("ListTokens = %v", err)
				}
				got = append(got, ids(resp.GetTokens()...)...)
				if resp.GetNextPageToken() == "" {
					break
				}
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				tc.req.PageToken = resp.GetNextPageToken()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("listed ids (-want +got):\n%s", diff)
			}
		})
	}

	// A page token belongs to its filter.
	first, err := e.tokens.ListTokens(admin(t), &pb.ListTokensRequest{WorkspaceId: "acme", PageSize: 1, States: []pb.TokenState{active}})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("ListTokens = %v, %v; want a next page", first, err)
	}
	for name, req := range map[string]*pb.ListTokensRequest{
		"other states": {States: []pb.TokenState{expState}},
		"no filter":    {},
		"with expiry":  {States: []pb.TokenState{active}, ExpireBefore: week},
	} {
		req.WorkspaceId, req.PageToken = "acme", first.GetNextPageToken()
		if _, err := e.tokens.ListTokens(admin(t), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s with another filter's page token: %v; want InvalidArgument", name, err)
		}
	}
}

func TestListTokensFilterBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	for name, req := range map[string]*pb.ListTokensRequest{
		"unspecified state": {States: []pb.TokenState{pb.TokenState_TOKEN_STATE_UNSPECIFIED}},
		"unknown state":     {States: []pb.TokenState{pb.TokenState_TOKEN_STATE_ACTIVE, 99}},
		"bad expire_before": {ExpireBefore: &timestamppb.Timestamp{Seconds: 1 << 62}},
		"bad nanos":         {ExpireBefore: &timestamppb.Timestamp{Nanos: -1}},
	} {
		req.WorkspaceId = "acme"
		_, err := e.tokens.ListTokens(admin(t), req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: ListTokens = %v; want InvalidArgument", name, err)
		}
	}
}

// TestListTokensFiltersUnderPolicy: state filters and expire_before apply
// the workspace's token policy, so a token stopped by a lowered limit is
// listed (and filtered) as expired, one the policy ends soon is "expiring",
// and a disabled token is DISABLED.
func TestListTokensFiltersUnderPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	old, _ := e.token(t, "acme", "alice", nil) // never expires by itself
	e.clock.Advance(10 * day)
	recent, _ := e.token(t, "acme", "alice", nil)
	e.clock.Advance(time.Millisecond)
	disabled, _ := e.token(t, "acme", "alice", nil)
	if _, err := e.tokens.UpdateToken(admin(t), &pb.UpdateTokenRequest{
		Token: &pb.Token{WorkspaceId: "acme", TokenId: disabled.GetTokenId(), Disabled: true}, UpdateMask: mask("disabled"),
	}); err != nil {
		t.Fatal(err)
	}
	// A limit of 15 days: old (10 days old) has 5 days left, recent 15.
	e.setPolicy(t, "acme", &pb.TokenPolicy{MaxLifetime: durationpb.New(15 * day)})
	week := timestamppb.New(e.clock.Now().Add(7 * day))
	list := func(req *pb.ListTokensRequest) []*pb.Token {
		t.Helper()
		req.WorkspaceId = "acme"
		resp, err := e.tokens.ListTokens(admin(t), req)
		if err != nil {
			t.Fatalf("ListTokens = %v", err)
		}
		return resp.GetTokens()
	}
	ids := func(toks []*pb.Token) []string {
		var out []string
		for _, t := range toks {
			out = append(out, t.GetTokenId())
		}
		return out
	}
	active := []pb.TokenState{pb.TokenState_TOKEN_STATE_ACTIVE}
	if diff := cmp.Diff([]string{old.GetTokenId()}, ids(list(&pb.ListTokensRequest{ExpireBefore: week}))); diff != "" {
		t.Errorf("expiring within a week under the policy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{disabled.GetTokenId()}, ids(list(&pb.ListTokensRequest{States: []pb.TokenState{pb.TokenState_TOKEN_STATE_DISABLED}}))); diff != "" {
		t.Errorf("disabled (-want +got):\n%s", diff)
	}
	e.clock.Advance(6 * day) // old is now past the policy's limit
	if diff := cmp.Diff([]string{old.GetTokenId()}, ids(list(&pb.ListTokensRequest{States: []pb.TokenState{pb.TokenState_TOKEN_STATE_EXPIRED}}))); diff != "" {
		t.Errorf("expired under the policy (-want +got):\n%s", diff)
	}
	got := list(&pb.ListTokensRequest{States: active})
	if diff := cmp.Diff([]string{recent.GetTokenId()}, ids(got)); diff != "" {
		t.Errorf("active under the policy (-want +got):\n%s", diff)
	}
	for _, tok := range list(&pb.ListTokensRequest{}) {
		if tok.GetTokenId() == old.GetTokenId() && tok.GetState() != pb.TokenState_TOKEN_STATE_EXPIRED {
			t.Errorf("listed state of the token past the limit = %v; want EXPIRED", tok.GetState())
		}
	}
}
