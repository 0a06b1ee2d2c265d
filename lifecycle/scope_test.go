package lifecycle_test

import (
	"fmt"
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/policy"
)

const (
	download  = pb.Operation_OPERATION_DOWNLOAD
	inference = pb.Operation_OPERATION_CLOUD_INFERENCE
)

// TestNarrowAgainstAccessTable combines every cell of the access table
// (zoo visibility × operation × token of the zoo's workspace or another)
// with scopes that include or exclude the operation and the zoo, including
// a scope naming another workspace's private zoo. Scopes only take away.
func TestNarrowAgainstAccessTable(t *testing.T) {
	t.Parallel()
	// The access table for a token holder (policy/doc.go), the zoo being
	// acme/detectors: own = a token of acme, other = a token of globex.
	table := []struct {
		vis     pb.Visibility
		op      pb.Operation
		own     bool
		allowed bool
		reason  pb.Reason
	}{
		{pb.Visibility_VISIBILITY_PUBLIC, download, true, true, pb.Reason_REASON_VALID},
		{pb.Visibility_VISIBILITY_PUBLIC, download, false, true, pb.Reason_REASON_VALID},
		{pb.Visibility_VISIBILITY_PUBLIC, inference, true, true, pb.Reason_REASON_VALID},
		{pb.Visibility_VISIBILITY_PUBLIC, inference, false, true, pb.Reason_REASON_VALID},
		{pb.Visibility_VISIBILITY_PRIVATE, download, true, true, pb.Reason_REASON_VALID},
		{pb.Visibility_VISIBILITY_PRIVATE, download, false, false, pb.Reason_REASON_ZOO_NOT_FOUND},
		{pb.Visibility_VISIBILITY_PRIVATE, inference, true, true, pb.Reason_REASON_VALID},
		{pb.Visibility_VISIBILITY_PRIVATE, inference, false, false, pb.Reason_REASON_ZOO_NOT_FOUND},
	}
	scopes := []struct {
		name    string
		ops     []pb.Operation
		zoos    []string
		inScope func(op pb.Operation) bool
	}{
		{"no scopes", nil, nil, func(pb.Operation) bool { return true }},
		{"download only", []pb.Operation{download}, nil, func(op pb.Operation) bool { return op == download }},
		{"inference only", []pb.Operation{inference}, nil, func(op pb.Operation) bool { return op == inference }},
		{"both operations", []pb.Operation{inference, download}, nil, func(pb.Operation) bool { return true }},
		{"this zoo", nil, []string{"acme/detectors"}, func(pb.Operation) bool { return true }},
		{"another zoo", nil, []string{"acme/other"}, func(pb.Operation) bool { return false }},
		{"same zoo name in another workspace", nil, []string{"globex/detectors"}, func(pb.Operation) bool { return false }},
		{"this zoo, download only", []pb.Operation{download}, []string{"globex/x", "acme/detectors"}, func(op pb.Operation) bool { return op == download }},
	}
	for _, row := range table {
		zoo := &pb.Zoo{WorkspaceId: "acme", ZooId: "detectors", Visibility: row.vis}
		ws := "globex"
		if row.own {
			ws = "acme"
		}
		for _, sc := range scopes {
			name := fmt.Sprintf("%v/%v/own=%v/%s", row.vis, row.op, row.own, sc.name)
			tok := &pb.Token{WorkspaceId: ws, Operations: sc.ops, Zoos: sc.zoos}
			base := policy.Decide(zoo, row.op, policy.Caller{WorkspaceID: ws})
			if base.Allowed != row.allowed || base.Reason != row.reason {
				t.Fatalf("%s: the access table changed: %+v", name, base)
			}
			got := lifecycle.Narrow(base, tok, "acme", "detectors", row.op)
			want := policy.Decision{Allowed: row.allowed, Reason: row.reason}
			if row.allowed && !sc.inScope(row.op) {
				want = policy.Decision{Allowed: false, Reason: pb.Reason_REASON_OUT_OF_SCOPE}
			}
			if got != want {
				t.Errorf("%s: Narrow = %+v, want %+v", name, got, want)
			}
			if got.Allowed && !base.Allowed {
				t.Errorf("%s: scopes widened a denial", name)
			}
		}
	}
	// A scope naming another workspace's private zoo grants nothing.
	private := &pb.Zoo{WorkspaceId: "globex", ZooId: "secret", Visibility: pb.Visibility_VISIBILITY_PRIVATE}
	tok := &pb.Token{WorkspaceId: "acme", Zoos: []string{"globex/secret"}}
	d := lifecycle.Narrow(policy.Decide(private, download, policy.Caller{WorkspaceID: "acme"}), tok, "globex", "secret", download)
	if d.Allowed || d.Reason != pb.Reason_REASON_ZOO_NOT_FOUND {
		t.Errorf("scope naming another workspace's private zoo = %+v; want denied as not found", d)
	}
}
