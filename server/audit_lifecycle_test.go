package server_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
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

// TestBackupIsAudited: a backup over gRPC leaves one store.backup event
// naming the admin, before the snapshot is sent; a refused one leaves none.
func TestBackupIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := pb.NewAdminServiceClient(conn)
	backup := func(ctx context.Context) (int, error) {
		stream, err := client.Backup(ctx, &pb.BackupRequest{})
		if err != nil {
			return 0, err
		}
		n := 0
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			n += len(resp.GetData())
		}
	}
	if _, err := backup(validator(t)); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("backup with a validator credential: %v; want PermissionDenied", err)
	}
	if evs := e.events(t); len(evs) != 0 {
		t.Fatalf("a refused backup left events %v", evs)
	}
	n, err := backup(admin(t))
	if err != nil || n == 0 {
		t.Fatalf("backup = %d bytes, %v", n, err)
	}
	evs := e.events(t)
	if len(evs) != 1 || evs[0].GetAction() != "store.backup" || evs[0].GetActor() != "web" {
		t.Fatalf("events after a backup = %v; want one store.backup by web", evs)
	}
}
