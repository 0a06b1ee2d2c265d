package access_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage/bbolt"
	"tokenauthority/token"
)

var t0 = time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC)

// fixture is a real store with two workspaces, a public and a private zoo,
// and a token in every state.
type fixture struct {
	store   *bbolt.Store
	secrets map[string]string // by name: own, other, expired, revoked, left, disabled, scoped, foreign-scope, capped, capped-out
	ids     map[string]string // token ids by the same names
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := bbolt.Open(filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for ws, users := range map[string][]string{"acme": {"alice", "carol"}, "other": {"bob"}, "short": {"dave"}} {
		if err := st.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: ws, CreateTime: timestamppb.New(t0)}); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if err := st.AddMember(ctx, &pb.Member{WorkspaceId: ws, UserId: u, CreateTime: timestamppb.New(t0)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for zoo, v := range map[string]pb.Visibility{"pub": pb.Visibility_VISIBILITY_PUBLIC, "priv": pb.Visibility_VISIBILITY_PRIVATE} {
		if err := st.CreateZoo(ctx, &pb.Zoo{WorkspaceId: "acme", ZooId: zoo, Visibility: v, CreateTime: timestamppb.New(t0)}); err != nil {
			t.Fatal(err)
		}
	}
	// Tokens of "short" live at most an hour, whatever they say.
	if _, err := st.UpdateWorkspace(ctx, "short", func(ws *pb.Workspace) error {
		ws.TokenPolicy = &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Hour)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, secrets: map[string]string{}, ids: map[string]string{}}
	add := func(name, ws, user string, mod func(*pb.Token)) {
		secret, err := token.New()
		if err != nil {
			t.Fatal(err)
		}
		id, err := token.NewID(t0)
		if err != nil {
			t.Fatal(err)
		}
		h := token.Hash(secret)
		tok := &pb.Token{TokenId: id, WorkspaceId: ws, UserId: user, MaskedKey: token.Mask(secret), CreateTime: timestamppb.New(t0)}
		if mod != nil {
			mod(tok)
		}
		if err := st.CreateToken(ctx, &storagepb.TokenRecord{Token: tok, SecretHash: h[:]}, nil); err != nil {
			t.Fatal(err)
		}
		f.secrets[name] = secret
		f.ids[name] = id
	}
	add("own", "acme", "alice", nil)
	add("other", "other", "bob", nil)
	add("expired", "acme", "alice", func(tok *pb.Token) { tok.ExpireTime = timestamppb.New(t0.Add(-time.Second)) })
	add("revoked", "acme", "alice", func(tok *pb.Token) { tok.RevokeTime = timestamppb.New(t0.Add(-time.Second)) })
	add("left", "acme", "carol", nil)
	add("disabled", "acme", "alice", func(tok *pb.Token) { tok.Disabled = true })
	add("scoped", "acme", "alice", func(tok *pb.Token) {
		tok.Operations = []pb.Operation{pb.Operation_OPERATION_DOWNLOAD}
		tok.Zoos = []string{"acme/pub"}
	})
	// A scope naming another workspace's private zoo grants nothing.
	add("foreign-scope", "other", "bob", func(tok *pb.Token) { tok.Zoos = []string{"acme/priv"} })
	add("capped", "short", "dave", func(tok *pb.Token) { tok.CreateTime = timestamppb.New(t0.Add(-30 * time.Minute)) })
	add("capped-out", "short", "dave", func(tok *pb.Token) { tok.CreateTime = timestamppb.New(t0.Add(-2 * time.Hour)) })
	// Removing carol revokes her tokens, but only from an hour later.
	if _, err := st.RemoveMember(ctx, "acme", "carol", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDecide(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var mu sync.Mutex
	uses := map[string]int{}
	a := access.New(access.Config{
		Store: f.store,
		Now:   func() time.Time { return t0 },
		OnUse: func(_ context.Context, tok *pb.Token, at time.Time) {
			if !at.Equal(t0) {
				t.Errorf("OnUse at %v, want %v", at, t0)
			}
			mu.Lock()
			uses[tok.GetUserId()]++
			mu.Unlock()
		},
	})
	const (
		dl    = pb.Operation_OPERATION_DOWNLOAD
		cloud = pb.Operation_OPERATION_CLOUD_INFERENCE
	)
	tests := []struct {
		zoo, secret string
		op          pb.Operation
		allowed     bool
		reason      pb.Reason
		workspace   string
	}{
		{"pub", "", dl, true, pb.Reason_REASON_PUBLIC, ""},
		{"pub", "own", dl, true, pb.Reason_REASON_VALID, "acme"},
		{"pub", "other", dl, true, pb.Reason_REASON_VALID, "other"},
		{"pub", "", cloud, false, pb.Reason_REASON_TOKEN_REQUIRED, ""},
		{"pub", "own", cloud, true, pb.Reason_REASON_VALID, "acme"},
		{"pub", "other", cloud, true, pb.Reason_REASON_VALID, "other"},
		{"priv", "", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND, ""},
		{"priv", "own", dl, true, pb.Reason_REASON_VALID, "acme"},
		{"priv", "other", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND, "other"},
		{"priv", "", cloud, false, pb.Reason_REASON_ZOO_NOT_FOUND, ""},
		{"priv", "own", cloud, true, pb.Reason_REASON_VALID, "acme"},
		{"priv", "other", cloud, false, pb.Reason_REASON_ZOO_NOT_FOUND, "other"},
		{"missing", "own", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND, "acme"},
		{"Bad/Name", "own", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND, "acme"},
		// An invalid token is denied even where no token would be allowed.
		{"pub", "expired", dl, false, pb.Reason_REASON_EXPIRED, ""},
		{"pub", "revoked", dl, false, pb.Reason_REASON_REVOKED, ""},
		{"pub", "left", dl, false, pb.Reason_REASON_NOT_MEMBER, ""},
		{"pub", "tka_not-a-token", dl, false, pb.Reason_REASON_MALFORMED, ""},
		{"pub", "disabled", dl, false, pb.Reason_REASON_DISABLED, ""},
		{"pub", "capped-out", dl, false, pb.Reason_REASON_EXPIRED, ""},
		{"pub", "capped", dl, true, pb.Reason_REASON_VALID, "short"},
		// Scopes only take away: outside them an allowance becomes
		// OUT_OF_SCOPE (also a public download), a denial keeps its reason.
		{"pub", "scoped", dl, true, pb.Reason_REASON_VALID, "acme"},
		{"pub", "scoped", cloud, false, pb.Reason_REASON_OUT_OF_SCOPE, "acme"},
		{"priv", "scoped", dl, false, pb.Reason_REASON_OUT_OF_SCOPE, "acme"},
		{"missing", "scoped", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND, "acme"},
		{"priv", "foreign-scope", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND, "other"},
		{"pub", "foreign-scope", dl, false, pb.Reason_REASON_OUT_OF_SCOPE, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.zoo+"/"+tt.op.String()+"/"+tt.secret, func(t *testing.T) {
			secret := tt.secret
			if s, ok := f.secrets[secret]; ok {
				secret = s
			}
			d, err := a.Decide(context.Background(), access.Request{Secret: secret, WorkspaceID: "acme", ZooID: tt.zoo, Operation: tt.op})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tt.allowed || d.Reason != tt.reason || d.WorkspaceID != tt.workspace {
				t.Errorf("Decide = allowed %v, %v, workspace %q; want %v, %v, %q", d.Allowed, d.Reason, d.WorkspaceID, tt.allowed, tt.reason, tt.workspace)
			}
			if d.Anonymous() != (tt.workspace == "") {
				t.Errorf("Anonymous() = %v with workspace %q", d.Anonymous(), d.WorkspaceID)
			}
		})
	}
	// Uses are counted for allowed decisions with a token only: alice's
	// five allows, bob's two and dave's one.
	want := map[string]int{"alice": 5, "bob": 2, "dave": 1}
	mu.Lock()
	defer mu.Unlock()
	if len(uses) != len(want) || uses["alice"] != want["alice"] || uses["bob"] != want["bob"] || uses["dave"] != want["dave"] {
		t.Errorf("uses = %v, want %v", uses, want)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	unknown, err := token.New()
	if err != nil {
		t.Fatal(err)
	}
	a := access.New(access.Config{Store: f.store, Now: func() time.Time { return t0 }})
	tests := []struct {
		secret string
		want   pb.Reason
		found  bool
	}{
		{f.secrets["own"], pb.Reason_REASON_VALID, true},
		{f.secrets["expired"], pb.Reason_REASON_EXPIRED, true},
		{f.secrets["revoked"], pb.Reason_REASON_REVOKED, true},
		{f.secrets["left"], pb.Reason_REASON_NOT_MEMBER, true},
		{f.secrets["disabled"], pb.Reason_REASON_DISABLED, true},
		{f.secrets["capped-out"], pb.Reason_REASON_EXPIRED, true},
		{f.secrets["capped"], pb.Reason_REASON_VALID, true},
		{unknown, pb.Reason_REASON_UNKNOWN, false},
		{"", pb.Reason_REASON_MALFORMED, false},
		{f.secrets["own"] + "x", pb.Reason_REASON_MALFORMED, false},
	}
	// One record reused for every ResolveInto: each verdict must be the
	// one Resolve gives, decoded into the record.
	var rec storagepb.TokenRecord
	for _, tt := range tests {
		v, err := a.Resolve(context.Background(), tt.secret)
		if err != nil {
			t.Fatal(err)
		}
		if v.Reason != tt.want || (v.Record != nil) != tt.found || v.Valid() != (tt.want == pb.Reason_REASON_VALID) || !v.At.Equal(t0) {
			t.Errorf("Resolve(%s) = %v, record %v, at %v; want %v, %v", token.Mask(tt.secret), v.Reason, v.Record != nil, v.At, tt.want, tt.found)
		}
		in, err := a.ResolveInto(context.Background(), tt.secret, &rec)
		if err != nil {
			t.Fatal(err)
		}
		if in.Reason != v.Reason || !in.At.Equal(v.At) || !proto.Equal(in.Record, v.Record) || in.Policy != v.Policy {
			t.Errorf("ResolveInto(%s) = %v, %v; Resolve gave %v, %v", token.Mask(tt.secret), in.Reason, in.Record, v.Reason, v.Record)
		}
		if (in.Record == &rec) != tt.found {
			t.Errorf("ResolveInto(%s): verdict's record is the caller's = %v, want %v", token.Mask(tt.secret), in.Record == &rec, tt.found)
		}
		// The record is the caller's own: changing it changes nothing
		// another caller sees.
		if v.Record != nil {
			v.Record.Token.State = pb.TokenState_TOKEN_STATE_REVOKED
			v.Record.Token.UserId = "changed"
		}
		again, err := a.Resolve(context.Background(), tt.secret)
		if err != nil {
			t.Fatal(err)
		}
		if again.Reason != tt.want || (again.Record != nil) != tt.found {
			t.Errorf("Resolve(%s) after changing the first verdict's record = %v, record %v; want %v, %v", token.Mask(tt.secret), again.Reason, again.Record != nil, tt.want, tt.found)
		}
		if again.Record != nil && (again.Record == v.Record || again.Token() == v.Token() || again.Token().GetUserId() == "changed") {
			t.Errorf("Resolve(%s) twice: the second verdict shares or sees the first's record", token.Mask(tt.secret))
		}
	}
}

// TestDecisionEnd: the expiry a decision and a verdict report is the
// token's end under its workspace's policy, not only its stored expiry.
func TestDecisionEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := access.New(access.Config{Store: f.store, Now: func() time.Time { return t0 }})
	d, err := a.Decide(context.Background(), access.Request{Secret: f.secrets["capped"], WorkspaceID: "acme", ZooID: "pub", Operation: pb.Operation_OPERATION_DOWNLOAD})
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(30 * time.Minute); !d.Allowed || !d.ExpireTime.Equal(want) {
		t.Errorf("Decide = allowed %v, expire %v; want allowed, the policy's end %v", d.Allowed, d.ExpireTime, want)
	}
	v, err := a.Resolve(context.Background(), f.secrets["capped"])
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(30 * time.Minute); !v.End().Equal(want) || v.Policy.GetMaxLifetime().AsDuration() != time.Hour {
		t.Errorf("Resolve = end %v, policy %v; want %v under the one-hour policy", v.End(), v.Policy, want)
	}
	d, err = a.Decide(context.Background(), access.Request{Secret: f.secrets["own"], WorkspaceID: "acme", ZooID: "pub", Operation: pb.Operation_OPERATION_DOWNLOAD})
	if err != nil {
		t.Fatal(err)
	}
	if !d.ExpireTime.IsZero() {
		t.Errorf("Decide with a token that never ends = expire %v; want zero", d.ExpireTime)
	}
}

// TestDecideAllocates: an allowed decision with a valid token allocates
// nothing (the token is decoded into a pooled record) and carries the
// token's identity, also after further decisions reuse the record. Not
// parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestDecideAllocates(t *testing.T) {
	f := newFixture(t)
	a := access.New(access.Config{Store: f.store, Now: func() time.Time { return t0 }})
	ctx := context.Background()
	req := access.Request{Secret: f.secrets["own"], WorkspaceID: "acme", ZooID: "pub", Operation: pb.Operation_OPERATION_DOWNLOAD}
	first, err := a.Decide(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var got access.Decision
	allocs := testing.AllocsPerRun(100, func() {
		other := req
		other.Secret = f.secrets["scoped"]
		if _, err := a.Decide(ctx, other); err != nil {
			t.Fatal(err)
		}
		if got, err = a.Decide(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	switch {
	case raceEnabled:
		t.Logf("two decisions with valid tokens: %v allocations (not checked: the race detector's pool drops records)", allocs)
	case allocs != 0:
		t.Errorf("two decisions with valid tokens: %v allocations, want 0", allocs)
	}
	for _, d := range []access.Decision{first, got} {
		if !d.Allowed || d.Anonymous() || d.WorkspaceID != "acme" || d.TokenID != f.ids["own"] || d.UserID != "alice" {
			t.Errorf("Decide(own) = %+v; want allowed for alice's token %s, also after other decisions", d, f.ids["own"])
		}
	}
}
