package validindex_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/validindex"
)

func rec(id, ws, user string) *storagepb.TokenRecord {
	h := sha256.Sum256([]byte(id))
	return &storagepb.TokenRecord{Token: &pb.Token{TokenId: id, WorkspaceId: ws, UserId: user}, SecretHash: h[:]}
}

func hash(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// TestIndex applies batches to a loaded index and checks each lookup: the
// token, its user's membership and its workspace's policy, with the last
// change of a key in a batch winning.
func TestIndex(t *testing.T) {
	t.Parallel()
	policy := &pb.TokenPolicy{MaxLifetime: durationpb.New(3600e9)}
	x, err := validindex.Load(2, func(l *validindex.Loader) error {
		l.Workspace("acme", nil)
		l.Member("acme", "ann")
		l.Token(rec("t1", "acme", "ann"))
		l.Token(rec("t2", "acme", "bob"))
		l.Token(&storagepb.TokenRecord{Token: &pb.Token{TokenId: "bad"}, SecretHash: []byte("short")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := x.Workspaces(); n != 1 {
		t.Errorf("Workspaces after load = %d, want 1", n)
	}
	type want struct {
		id     string // "" when not found
		member bool
		policy *pb.TokenPolicy
	}
	steps := []struct {
		name  string
		batch func(b *validindex.Batch)
		want  map[string]want
	}{
		{"loaded", func(*validindex.Batch) {}, map[string]want{
			"t1": {"t1", true, nil}, "t2": {"t2", false, nil}, "t3": {}, "bad": {},
		}},
		{"policy, member, new token", func(b *validindex.Batch) {
			b.PutWorkspace("acme", policy)
			b.SetMember("acme", "bob", true)
			b.PutToken(rec("t3", "acme", "bob"))
		}, map[string]want{
			"t1": {"t1", true, policy}, "t2": {"t2", true, policy}, "t3": {"t3", true, policy},
		}},
		{"last change wins", func(b *validindex.Batch) {
			b.SetMember("acme", "ann", true)
			b.SetMember("acme", "ann", false)
			b.DeleteToken(hash("t2"))
			b.PutToken(rec("t2", "acme", "bob"))
			b.PutToken(rec("t3", "acme", "bob"))
			b.DeleteToken(hash("t3"))
		}, map[string]want{
			"t1": {"t1", false, policy}, "t2": {"t2", true, policy}, "t3": {},
		}},
		{"workspace gone", func(b *validindex.Batch) {
			b.DeleteWorkspace("acme")
		}, map[string]want{
			// bob is still a member on record, of a workspace that is gone.
			"t1": {"t1", false, nil}, "t2": {"t2", false, nil},
		}},
	}
	for _, st := range steps {
		b := &validindex.Batch{}
		st.batch(b)
		x.Apply(b)
		for id, w := range st.want {
			got, member, p, ok := x.Lookup(hash(id))
			if ok != (w.id != "") || got.GetToken().GetTokenId() != w.id || member != w.member || !proto.Equal(p, w.policy) {
				t.Errorf("%s: Lookup(%s) = %q member=%v policy=%v ok=%v, want %q member=%v policy=%v",
					st.name, id, got.GetToken().GetTokenId(), member, p, ok, w.id, w.member, w.policy)
			}
			// The gateways' path gives the same verdict.
			var into storagepb.TokenRecord
			member, p, ok = x.LookupInto(hash(id), &into)
			if ok != (w.id != "") || into.GetToken().GetTokenId() != w.id || member != w.member || !proto.Equal(p, w.policy) {
				t.Errorf("%s: LookupInto(%s) = %q member=%v policy=%v ok=%v, want %q member=%v policy=%v",
					st.name, id, into.GetToken().GetTokenId(), member, p, ok, w.id, w.member, w.policy)
			}
		}
	}
	if n := x.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
	if n := x.Workspaces(); n != 0 {
		t.Errorf("Workspaces after the delete = %d, want 0", n)
	}
	b := &validindex.Batch{}
	b.PutWorkspace("acme", nil)
	b.PutWorkspace("beta", nil)
	x.Apply(b)
	b = &validindex.Batch{}
	b.PutWorkspace("acme", policy) // an update counts once
	x.Apply(b)
	if n := x.Workspaces(); n != 2 {
		t.Errorf("Workspaces after two puts and an update = %d, want 2", n)
	}
}

// TestLookupOwned checks that every lookup hands its caller a record of
// its own: changing one leaves the next lookup's, and the index, as
// stored; and that Has agrees with Lookup.
func TestLookupOwned(t *testing.T) {
	t.Parallel()
	x, err := validindex.Load(1, func(l *validindex.Loader) error {
		l.Workspace("acme", nil)
		l.Member("acme", "ann")
		l.Token(rec("t1", "acme", "ann"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first, _, _, ok := x.Lookup(hash("t1"))
	if !ok {
		t.Fatal("Lookup(t1) found nothing")
	}
	first.Token.State = pb.TokenState_TOKEN_STATE_REVOKED
	first.Token.TokenId = "changed"
	first.SecretHash[0]++
	second, _, _, ok := x.Lookup(hash("t1"))
	if !ok {
		t.Fatal("second Lookup(t1) found nothing")
	}
	if second == first || second.Token == first.Token {
		t.Fatal("two lookups share a record")
	}
	if want := rec("t1", "acme", "ann"); !proto.Equal(second, want) {
		t.Errorf("after changing the first lookup's record, Lookup = %v, want %v", second, want)
	}
	for _, tt := range []struct {
		id   string
		want bool
	}{{"t1", true}, {"t2", false}} {
		if got := x.Has(hash(tt.id)); got != tt.want {
			t.Errorf("Has(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestLookupInto checks that LookupInto fills a record the caller reuses
// with each token as stored, whatever the record held before (a token
// with more timestamps and scopes, one changed by the caller), leaves it
// alone on a miss, and allocates nothing once the record has held a token
// of the same shape.
func TestLookupInto(t *testing.T) {
	// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
	full := rec("full", "acme", "ann")
	full.Token.CreateTime = timestamppb.New(time.Unix(100, 5))
	full.Token.ExpireTime = timestamppb.New(time.Unix(200, 0))
	full.Token.RevokeTime = timestamppb.New(time.Unix(150, 0))
	full.Token.LastUsedTime = timestamppb.New(time.Unix(120, 0))
	full.Token.Operations = []pb.Operation{pb.Operation_OPERATION_DOWNLOAD, pb.Operation_OPERATION_CLOUD_INFERENCE}
	full.Token.Zoos = []string{"z1", "z2", "z3"}
	full.Token.State = pb.TokenState_TOKEN_STATE_REVOKED
	bare := rec("bare", "acme", "bob")
	x, err := validindex.Load(2, func(l *validindex.Loader) error {
		l.Workspace("acme", nil)
		l.Member("acme", "ann")
		l.Token(full)
		l.Token(bare)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got storagepb.TokenRecord
	for _, tt := range []struct {
		name   string
		id     string
		want   *storagepb.TokenRecord
		member bool
	}{
		{"full into an empty record", "full", full, true},
		{"bare over full", "bare", bare, false},
		{"full over bare", "full", full, true},
		{"full again", "full", full, true},
	} {
		member, _, ok := x.LookupInto(hash(tt.id), &got)
		if !ok {
			t.Fatalf("%s: LookupInto(%s) found nothing", tt.name, tt.id)
		}
		if member != tt.member || !proto.Equal(&got, tt.want) {
			t.Errorf("%s: LookupInto(%s) = %v, member %v; want %v, %v", tt.name, tt.id, &got, member, tt.want, tt.member)
		}
		// The caller changes what it got: the next lookup must not see it.
		got.Token.TokenId = "changed"
		if len(got.Token.Zoos) > 0 {
			got.Token.Zoos[0] = "changed"
			got.Token.CreateTime.Seconds = -1
		}
		got.SecretHash[0]++
	}
	before := proto.Clone(&got)
	if _, _, ok := x.LookupInto(hash("none"), &got); ok || !proto.Equal(&got, before) {
		t.Errorf("LookupInto(none) = %v, record %v; want false and the record unchanged", ok, &got)
	}
	if again, _, _, _ := x.Lookup(hash("full")); !proto.Equal(again, full) {
		t.Errorf("Lookup(full) after the caller changed its records = %v, want %v", again, full)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, _, ok := x.LookupInto(hash("full"), &got); !ok {
			t.Fatal("LookupInto(full) found nothing")
		}
	}); n != 0 {
		t.Errorf("LookupInto into a reused record: %v allocations, want 0", n)
	}
}
