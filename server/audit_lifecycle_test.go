package server_test

import (
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestLifecycleChangesAreAudited: updating a workspace or a token, rolling
// a token and the SDK's refresh each leave one event; a refresh that finds
// its token already replaced fails, and its event names the reused token and
// the family revoked for it.
func TestLifecycleChangesAreAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := admin(t)
	if _, err := e.workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.workspaces.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	created, err := e.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	a := created.GetToken().GetTokenId()
	var b, bSecret, c string

	type event struct {
		Actor, Action, Workspace, Target string
		Revoked                          []string
	}
	steps := []struct {
		name string
		call func() error
		want func() event
		code codes.Code
	}{
		{"update workspace", func() error {
			_, err := e.workspaces.UpdateWorkspace(ctx, &pb.UpdateWorkspaceRequest{
				Workspace:  &pb.Workspace{WorkspaceId: "acme", DisplayName: "Acme"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
			})
			return err
		}, func() event { return event{"web", "workspace.update", "acme", "acme", nil} }, codes.OK},
		{"update token", func() error {
			_, err := e.tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{
				Token:      &pb.Token{WorkspaceId: "acme", TokenId: a, Description: "laptop"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}},
			})
			return err
		}, func() event { return event{"web", "token.update", "acme", a, nil} }, codes.OK},
		{"roll token", func() error {
			resp, err := e.tokens.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: a, Grace: durationpb.New(time.Hour)})
			b, bSecret = resp.GetToken().GetTokenId(), resp.GetSecret()
			return err
		}, func() event { return event{"web", "token.roll", "acme", a, nil} }, codes.OK},
		{"refresh", func() error {
			_, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: bSecret})
			return err
		}, func() event { return event{"token:" + b, "token.refresh", "acme", c, nil} }, codes.OK},
		{"refresh of a replaced token", func() error {
			_, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: bSecret})
			return err
		}, func() event { return event{"token:" + b, "token.refresh", "acme", b, []string{b, c}} }, codes.FailedPrecondition},
	}
	seen := len(e.events(t))
	for _, s := range steps {
		if err := s.call(); status.Code(err) != s.code {
			t.Fatalf("%s: %v; want %v", s.name, err, s.code)
		}
		evs := e.events(t)
		if len(evs) != seen+1 {
			t.Fatalf("%s left %d events; want 1", s.name, len(evs)-seen)
		}
		seen = len(evs)
		ev := evs[len(evs)-1]
		if s.name == "refresh" {
			// The new token's id is known only from the event.
			c = ev.GetTarget()
			if c == "" || c == a || c == b {
				t.Fatalf("refresh names target %q; want the new token's id", c)
			}
		}
		got := event{ev.GetActor(), ev.GetAction(), ev.GetWorkspaceId(), ev.GetTarget(), ev.GetRevokedTokenIds()}
		if diff := gocmp.Diff(s.want(), got, cmpopts.EquateEmpty(), cmpopts.SortSlices(func(x, y string) bool { return x < y })); diff != "" {
			t.Errorf("%s recorded (-want +got):\n%s", s.name, diff)
		}
	}
	v, err := e.audit.VerifyAuditLog(ctx, &pb.VerifyAuditLogRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.GetOk() {
		t.Errorf("VerifyAuditLog = %v; want an intact chain", v)
	}
}
