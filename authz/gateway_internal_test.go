package authz

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage/bbolt"
	"tokenauthority/token"
)

// TestGatewayDecideAllocates: an allowed decision with a valid token, as
// Envoy's Check and forward auth make it, allocates nothing (the token is
// decoded into a pooled record of the authority) and keeps the token's
// identity. Not parallel: testing.AllocsPerRun refuses to run in a
// parallel test.
func TestGatewayDecideAllocates(t *testing.T) {
	ctx := context.Background()
	st, err := bbolt.Open(filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	if err := st.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "alice", CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateZoo(ctx, &pb.Zoo{WorkspaceId: "acme", ZooId: "priv", Visibility: pb.Visibility_VISIBILITY_PRIVATE, CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	secret, err := token.New()
	if err != nil {
		t.Fatal(err)
	}
	id, err := token.NewID(now)
	if err != nil {
		t.Fatal(err)
	}
	h := token.Hash(secret)
	tok := &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "alice", MaskedKey: token.Mask(secret),
		CreateTime: timestamppb.New(now), ExpireTime: timestamppb.New(now.Add(time.Hour)), Zoos: []string{"acme/priv"}}
	if err := st.CreateToken(ctx, &storagepb.TokenRecord{Token: tok, SecretHash: h[:]}, nil); err != nil {
		t.Fatal(err)
	}
	g := New(access.New(access.Config{Store: st}), nil, nil)
	target := Target{WorkspaceID: "acme", ZooID: "priv", Operation: pb.Operation_OPERATION_DOWNLOAD}
	var o outcome
	allocs := testing.AllocsPerRun(100, func() {
		if o, err = g.decide(ctx, secret, target); err != nil {
			t.Fatal(err)
		}
	})
	d := o.decision
	if o.status != http.StatusOK || d.Anonymous() || d.WorkspaceID != "acme" || d.TokenID != id || d.UserID != "alice" {
		t.Errorf("decide = status %d, decision %+v; want 200 for alice's token %s", o.status, d, id)
	}
	if allocs != 0 {
		t.Errorf("a gateway decision allocates %v times, want 0", allocs)
	}
}
