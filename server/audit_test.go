package server_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/server"
)

// events returns every stored audit event, read page by page.
func (e *env) events(t *testing.T) []*pb.AuditEvent {
	t.Helper()
	var out []*pb.AuditEvent
	req := &pb.ListAuditEventsRequest{PageSize: 7}
	for {
		resp, err := e.audit.ListAuditEvents(admin(t), req)
		if err != nil {
			t.Fatalf("ListAuditEvents: %v", err)
		}
		out = append(out, resp.GetEvents()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// want is the part of an event a test predicts.
type want struct{ actor, action, workspace, target string }

func wantOf(ev *pb.AuditEvent) want {
	return want{ev.GetActor(), ev.GetAction(), ev.GetWorkspaceId(), ev.GetTarget()}
}

// TestEveryChangeLeavesOneAuditEvent makes each kind of change over gRPC and
// checks that it left exactly one event naming the right actor, action and
// target, and that failed calls and reads left none.
func TestEveryChangeLeavesOneAuditEvent(t *testing.T) {
	t.Parallel()
	var jsonLines teststack.Logs
	e := newEnv(t, func(c *server.Config) { c.AuditLog = &jsonLines })
	ctx := admin(t)
	const seed = "seed-for-the-audit-test-0001-qH3kV9xZ2mWn8pLr"
	var tok *pb.Token
	var secret, refreshed string
	secrets := []string{seed, adminSecret, validatorSecret}

	steps := []struct {
		name string
		call func() error
		want want // zero: the call must leave no event
	}{
		{"create workspace", func() error {
			_, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"})
			return err
		}, want{"web", "workspace.create", "acme", "acme"}},
		{"add member", func() error {
			_, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"})
			return err
		}, want{"web", "member.add", "acme", "alice"}},
		{"create zoo", func() error {
			_, err := e.workspaces.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: "acme", ZooId: "priv", Visibility: private})
			return err
		}, want{"web", "zoo.create", "acme", "priv"}},
		{"update zoo", func() error {
			_, err := e.workspaces.UpdateZoo(ctx, &pb.UpdateZooRequest{WorkspaceId: "acme", ZooId: "priv", Visibility: pb.Visibility_VISIBILITY_PUBLIC})
			return err
		}, want{"web", "zoo.update", "acme", "priv"}},
		{"create token", func() error {
			resp, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Seed: seed})
			tok, secret = resp.GetToken(), resp.GetSecret()
			secrets = append(secrets, secret)
			return err
		}, want{"web", "token.create", "acme", ""}}, // target: the new id, checked below
		{"reveal token", func() error {
			_, err := e.tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
			return err
		}, want{"web", "token.reveal", "acme", ""}},
		{"pick seed", func() error {
			_, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
			return err
		}, want{"self-service", "seed.pick", "", ""}},
		{"refresh token", func() error {
			resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
			refreshed = resp.GetValue()
			secrets = append(secrets, refreshed)
			return err
		}, want{"", "token.refresh", "acme", ""}},

		// Reads leave nothing.
		{"get workspace", func() error {
			_, err := e.workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"})
			return err
		}, want{}},
		{"list tokens", func() error {
			_, err := e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme"})
			return err
		}, want{}},
		{"validate", func() error {
			_, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: refreshed})
			return err
		}, want{}},
		{"check access", func() error {
			_, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: refreshed, Zoo: "acme/priv", Operation: cloud})
			return err
		}, want{}},
		{"token info", func() error {
			_, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: refreshed})
			return err
		}, want{}},
		{"verify", func() error {
			_, err := e.audit.VerifyAuditLog(ctx, &pb.VerifyAuditLogRequest{})
			return err
		}, want{}},

		{"revoke token", func() error {
			_, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
			return err
		}, want{"web", "token.revoke", "acme", ""}},

		{"delete zoo", func() error {
			_, err := e.workspaces.DeleteZoo(ctx, &pb.DeleteZooRequest{WorkspaceId: "acme", ZooId: "priv"})
			return err
		}, want{"web", "zoo.delete", "acme", "priv"}},
		{"remove member", func() error {
			_, err := e.workspaces.RemoveMember(ctx, &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "alice"})
			return err
		}, want{"web", "member.remove", "acme", "alice"}},
		{"delete workspace", func() error {
			_, err := e.workspaces.DeleteWorkspace(ctx, &pb.DeleteWorkspaceRequest{WorkspaceId: "acme", Force: true})
			return err
		}, want{"web", "workspace.delete", "acme", "acme"}},
	}
	// One process's events list in commit order: what a step added is
	// what follows the events seen before it.
	seen := 0
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		evs := e.events(t)
		added := evs[seen:]
		seen = len(evs)
		if s.want == (want{}) {
			if len(added) != 0 {
				t.Errorf("%s left events %v; want none", s.name, added)
			}
			continue
		}
		if len(added) != 1 {
			t.Fatalf("%s left %d events %v; want exactly one", s.name, len(added), added)
		}
		ev := added[0]
		w := s.want
		switch s.name {
		case "create token", "reveal token", "revoke token", "pick seed":
			w.target = tok.GetTokenId()
		case "refresh token":
			w.actor = "token:" + tok.GetTokenId()
			w.target = ev.GetTarget()
			if w.target == tok.GetTokenId() || w.target == "" {
				t.Errorf("refresh names target %q; want the new token's id", w.target)
			}
		}
		if got := wantOf(ev); got != w {
			t.Errorf("%s recorded %+v; want %+v", s.name, got, w)
		}
		if !strings.HasPrefix(ev.GetClientAddress(), "127.0.0.1:") {
			t.Errorf("%s recorded client address %q; want the loopback peer", s.name, ev.GetClientAddress())
		}
		if !ev.GetTime().AsTime().Equal(e.clock.Now()) {
			t.Errorf("%s recorded time %v; want the server's now %v", s.name, ev.GetTime().AsTime(), e.clock.Now())
		}
		e.clock.Advance(time.Second)
	}

	// Failed and refused calls leave nothing.
	before := len(e.events(t))
	failures := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"duplicate workspace", func() error {
			if _, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "beta"}); err != nil {
				return err
			}
			before++ // this one succeeded; the duplicate must not
			_, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "beta"})
			return err
		}, codes.AlreadyExists},
		{"member of a missing workspace", func() error {
			_, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "nope", UserId: "bob"})
			return err
		}, codes.NotFound},
		{"invalid token request", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "beta", UserId: "Bob!"})
			return err
		}, codes.InvalidArgument},
		{"token of a non-member", func() error {
			_, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "beta", UserId: "bob"})
			return err
		}, codes.FailedPrecondition},
		{"revoke unknown token", func() error {
			_, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "beta", TokenId: tok.GetTokenId()})
			return err
		}, codes.NotFound},
		{"reveal revoked token", func() error {
			_, err := e.tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
			return err
		}, codes.NotFound},
		{"validator creates a workspace", func() error {
			_, err := e.workspaces.CreateWorkspace(validator(t), &pb.CreateWorkspaceRequest{WorkspaceId: "gamma"})
			return err
		}, codes.PermissionDenied},
		{"no credential", func() error {
			_, err := e.workspaces.DeleteWorkspace(t.Context(), &pb.DeleteWorkspaceRequest{WorkspaceId: "beta"})
			return err
		}, codes.Unauthenticated},
		{"refresh a revoked token", func() error {
			_, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
			return err
		}, codes.Unauthenticated},
		{"pick a picked seed", func() error {
			_, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
			return err
		}, codes.NotFound},
	}
	for _, f := range failures {
		if err := f.call(); status.Code(err) != f.code {
			t.Errorf("%s: %v; want %v", f.name, err, f.code)
		}
		if n := len(e.events(t)); n != before {
			t.Errorf("%s left %d events; want none", f.name, n-before)
			before = n
		}
	}

	all := e.events(t)
	v, err := e.audit.VerifyAuditLog(ctx, &pb.VerifyAuditLogRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.GetOk() || v.GetEventsChecked() != uint64(len(all)) || v.GetFirstBrokenSequence() != 0 {
		t.Errorf("VerifyAuditLog = %v; want ok over %d events", v, len(all))
	}

	// The JSON lines copy holds the same events, in order.
	var lines []*pb.AuditEvent
	sc := bufio.NewScanner(strings.NewReader(jsonLines.String()))
	for sc.Scan() {
		ev := &pb.AuditEvent{}
		if err := protojson.Unmarshal(sc.Bytes(), ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		lines = append(lines, ev)
	}
	if diff := gocmp.Diff(all, lines, protocmp.Transform()); diff != "" {
		t.Errorf("JSON lines differ from the stored events (-stored +lines):\n%s", diff)
	}

	// No secret anywhere: not in the store file, the events, the JSON lines
	// or the log.
	raw, err := os.ReadFile(e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	listed := protojson.Format(&pb.ListAuditEventsResponse{Events: all})
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret of the test is empty")
		}
		for where, text := range map[string]string{"store file": string(raw), "events": listed, "JSON lines": jsonLines.String(), "log": e.logs.String()} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret", where)
			}
		}
	}
	if !bytes.Contains(raw, []byte(tok.GetTokenId())) {
		t.Error("the store file does not contain the token id; the secret search reads the wrong file")
	}
}

func TestListAuditEventsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	start := e.clock.Now()
	e.workspace(t, "acme", []string{"alice", "bob"}, nil) // 3 events at start
	e.clock.Advance(time.Hour)
	e.workspace(t, "beta", []string{"carol"}, nil) // 2 events an hour later
	tok, _ := e.token(t, "beta", "carol", nil)
	if _, err := e.tokens.RevealToken(admin(t), &pb.RevealTokenRequest{WorkspaceId: "beta", TokenId: tok.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	// Events by workspace chain and sequence (each chain counts from 1).
	seqs := func(req *pb.ListAuditEventsRequest) []string {
		t.Helper()
		var out []string
		for {
			resp, err := e.audit.ListAuditEvents(admin(t), req)
			if err != nil {
				t.Fatalf("ListAuditEvents(%v): %v", req, err)
			}
			if limit := cmp.Or(req.GetPageSize(), 50); len(resp.GetEvents()) > int(limit) {
				t.Fatalf("page of %d events for page_size %d", len(resp.GetEvents()), req.GetPageSize())
			}
			for _, ev := range resp.GetEvents() {
				out = append(out, fmt.Sprintf("%s/%d", ev.GetWorkspaceId(), ev.GetSequence()))
			}
			if resp.GetNextPageToken() == "" {
				return out
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	acme := []string{"acme/1", "acme/2", "acme/3"}
	beta := []string{"beta/1", "beta/2", "beta/3", "beta/4"}
	all := append(append([]string(nil), acme...), beta...)
	tests := []struct {
		name string
		req  *pb.ListAuditEventsRequest
		want []string
	}{
		{"all", &pb.ListAuditEventsRequest{}, all},
		{"pages of 2", &pb.ListAuditEventsRequest{PageSize: 2}, all},
		{"pages of 1", &pb.ListAuditEventsRequest{PageSize: 1}, all},
		{"workspace", &pb.ListAuditEventsRequest{WorkspaceId: "beta", PageSize: 1}, beta},
		{"action", &pb.ListAuditEventsRequest{Action: "member.add"}, []string{"acme/2", "acme/3", "beta/2"}},
		{"actor", &pb.ListAuditEventsRequest{Actor: "web"}, all},
		{"unknown actor", &pb.ListAuditEventsRequest{Actor: "user:mallory"}, nil},
		{"before the hour", &pb.ListAuditEventsRequest{EndTime: timestamppb.New(start.Add(time.Hour))}, acme},
		{"from the hour", &pb.ListAuditEventsRequest{StartTime: timestamppb.New(start.Add(time.Hour))}, beta},
		{"combined", &pb.ListAuditEventsRequest{WorkspaceId: "beta", Action: "token.reveal", StartTime: timestamppb.New(start)}, []string{"beta/4"}},
	}
	for _, tt := range tests {
		if got := seqs(tt.req); !gocmp.Equal(got, tt.want) {
			t.Errorf("%s: events %v; want %v", tt.name, got, tt.want)
		}
	}

	first, err := e.audit.ListAuditEvents(admin(t), &pb.ListAuditEventsRequest{PageSize: 2, Action: "member.add"})
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		req  *pb.ListAuditEventsRequest
	}{
		{"negative page size", &pb.ListAuditEventsRequest{PageSize: -1}},
		{"token of another filter", &pb.ListAuditEventsRequest{PageSize: 2, Action: "zoo.create", PageToken: first.GetNextPageToken()}},
		{"garbage token", &pb.ListAuditEventsRequest{PageToken: "!!"}},
		{"bad workspace id", &pb.ListAuditEventsRequest{WorkspaceId: "Not Valid"}},
		{"control character in actor", &pb.ListAuditEventsRequest{Actor: "web\n"}},
		{"end before start", &pb.ListAuditEventsRequest{StartTime: timestamppb.New(start), EndTime: timestamppb.New(start)}},
		{"invalid time", &pb.ListAuditEventsRequest{StartTime: &timestamppb.Timestamp{Nanos: -1}}},
	}
	for _, b := range bad {
		if _, err := e.audit.ListAuditEvents(admin(t), b.req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v; want InvalidArgument", b.name, err)
		}
	}
	if first.GetNextPageToken() == "" {
		t.Fatal("no next page for 3 member.add events in pages of 2")
	}
	for name, ctx := range map[string]context.Context{"validator": validator(t), "no credential": t.Context()} {
		if _, err := e.audit.ListAuditEvents(ctx, &pb.ListAuditEventsRequest{}); status.Code(err) != codes.PermissionDenied && status.Code(err) != codes.Unauthenticated {
			t.Errorf("ListAuditEvents as %s: %v; want refused", name, err)
		}
		if _, err := e.audit.VerifyAuditLog(ctx, &pb.VerifyAuditLogRequest{}); status.Code(err) != codes.PermissionDenied && status.Code(err) != codes.Unauthenticated {
			t.Errorf("VerifyAuditLog as %s: %v; want refused", name, err)
		}
	}
}
