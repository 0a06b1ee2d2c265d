package server_test

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestRevocationsOfManyTokensNameThem: batch revocation, a leak report and
// a member's removal each leave one event that lists the tokens it revoked
// (and only those), and the chain still verifies.
func TestRevocationsOfManyTokensNameThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := admin(t)
	if _, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	ids := map[string][]string{}
	secrets := map[string][]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: u}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			resp, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: u})
			if err != nil {
				t.Fatal(err)
			}
			ids[u] = append(ids[u], resp.GetToken().GetTokenId())
			secrets[u] = append(secrets[u], resp.GetSecret())
		}
	}

	type event struct {
		Actor, Action, Workspace, Target string
		Revoked                          []string
	}
	steps := []struct {
		name string
		call func() error
		want event
	}{
		{"batch by ids", func() error {
			_, err := e.tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", TokenIds: []string{ids["alice"][0]}})
			return err
		}, event{"web", "token.batch_revoke", "acme", "acme", []string{ids["alice"][0]}}},
		{"batch by user skips the revoked one", func() error {
			_, err := e.tokens.RevokeTokens(ctx, &pb.RevokeTokensRequest{WorkspaceId: "acme", UserId: "alice"})
			return err
		}, event{"web", "token.batch_revoke", "acme", "alice", []string{ids["alice"][1]}}},
		{"leak report", func() error {
			return e.reportLeaked(t, t.Context(), secrets["bob"][1], "tka_notatoken", secrets["alice"][0])
		}, event{"self-service", "token.report_leaked", "", "", []string{ids["bob"][1]}}},
		{"leak report matching nothing", func() error {
			return e.reportLeaked(t, t.Context(), "tka_notatoken")
		}, event{}}, // writes nothing
		{"remove member", func() error {
			_, err := e.workspaces.RemoveMember(ctx, &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "carol"})
			return err
		}, event{"web", "member.remove", "acme", "carol", ids["carol"]}},
	}
	seen := len(e.events(t))
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		evs := e.events(t)
		want := 1
		if s.want.Action == "" {
			want = 0
		}
		if len(evs) != seen+want {
			t.Fatalf("%s left %d events; want %d", s.name, len(evs)-seen, want)
		}
		seen = len(evs)
		if want == 0 {
			continue
		}
		ev := evs[len(evs)-1]
		got := event{ev.GetActor(), ev.GetAction(), ev.GetWorkspaceId(), ev.GetTarget(), ev.GetRevokedTokenIds()}
		if diff := gocmp.Diff(s.want, got, cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("%s recorded (-want +got):\n%s", s.name, diff)
		}
	}
	v, err := e.audit.VerifyAuditLog(ctx, &pb.VerifyAuditLogRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.GetOk() {
		t.Errorf("VerifyAuditLog = %v; want an intact chain with revoked ids hashed", v)
	}
}
