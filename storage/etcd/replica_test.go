package etcd_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/storage/etcd"
)

// TestCreatedElsewhereValidatesAtOnce writes through one store and looks
// up through another on the same prefix, with no wait between: a token or
// zoo another replica just created is found although this replica's index
// has not heard of it yet, as a client that got the token from one replica
// and sends it to the next one behind a load balancer expects.
func TestCreatedElsewhereValidatesAtOnce(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	ctx := context.Background()
	open := func() *etcd.Store {
		s, err := etcd.OpenClient(ctx, c.Client(t), etcd.Options{Prefix: "/replicas/"})
		if err != nil {
			t.Fatalf("OpenClient = %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	now := time.Now()
	if err := a.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme", CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "ann", CreateTime: timestamppb.New(now)}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		id := fmt.Sprintf("%026d", i)
		h := sha256.Sum256([]byte("secret-" + id))
		rec := &storagepb.TokenRecord{
			Token:      &pb.Token{TokenId: id, WorkspaceId: "acme", UserId: "ann", Description: "d", MaskedKey: "m", CreateTime: timestamppb.New(now)},
			SecretHash: h[:],
		}
		if err := a.CreateToken(ctx, rec, nil); err != nil {
			t.Fatalf("CreateToken %d: %v", i, err)
		}
		got, member, err := b.LookupToken(ctx, h)
		if err != nil {
			t.Fatalf("LookupToken on the other store right after CreateToken %d: %v", i, err)
		}
		if got.GetToken().GetTokenId() != id || !member {
			t.Fatalf("LookupToken = %v, member %v; want token %s of a member", got.GetToken(), member, id)
		}
		zoo := fmt.Sprintf("z%d", i)
		if err := a.CreateZoo(ctx, &pb.Zoo{WorkspaceId: "acme", ZooId: zoo, Visibility: pb.Visibility_VISIBILITY_PUBLIC, CreateTime: timestamppb.New(now)}); err != nil {
			t.Fatal(err)
		}
		if z, err := b.GetZoo(ctx, "acme", zoo); err != nil || z.GetVisibility() != pb.Visibility_VISIBILITY_PUBLIC {
			t.Fatalf("GetZoo on the other store right after CreateZoo = %v, %v", z, err)
		}
	}
}
