package teststack

import (
	"context"
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Members creates workspace id with users as its members; ctx must carry
// an admin credential.
func Members(t testing.TB, ctx context.Context, ws pb.WorkspaceServiceClient, id string, users ...string) {
	t.Helper()
	if _, err := ws.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: id}); err != nil {
		t.Fatalf("CreateWorkspace(%s): %v", id, err)
	}
	for _, u := range users {
		if _, err := ws.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: id, UserId: u}); err != nil {
			t.Fatalf("AddMember(%s, %s): %v", id, u, err)
		}
	}
}
