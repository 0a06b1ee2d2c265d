package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/policy"
)

const (
	public  = pb.Visibility_VISIBILITY_PUBLIC
	private = pb.Visibility_VISIBILITY_PRIVATE

	download  = pb.Operation_OPERATION_DOWNLOAD
	inference = pb.Operation_OPERATION_CLOUD_INFERENCE
)

var (
	anonymous = policy.Caller{Anonymous: true}
	own       = policy.Caller{WorkspaceID: "acme"}
	other     = policy.Caller{WorkspaceID: "globex"}
)

func zoo(v pb.Visibility) *pb.Zoo {
	return &pb.Zoo{WorkspaceId: "acme", ZooId: "detectors", Visibility: v}
}

func allowed(r pb.Reason) policy.Decision { return policy.Decision{Allowed: true, Reason: r} }
func denied(r pb.Reason) policy.Decision  { return policy.Decision{Allowed: false, Reason: r} }

// TestDecideTable is the access table of the product, every cell.
func TestDecideTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		vis    pb.Visibility
		op     pb.Operation
		caller policy.Caller
		want   policy.Decision
	}{
		{"public download anonymous", public, download, anonymous, allowed(pb.Reason_REASON_PUBLIC)},
		{"public download own workspace", public, download, own, allowed(pb.Reason_REASON_VALID)},
		{"public download other workspace", public, download, other, allowed(pb.Reason_REASON_VALID)},
		{"public inference anonymous", public, inference, anonymous, denied(pb.Reason_REASON_TOKEN_REQUIRED)},
		{"public inference own workspace", public, inference, own, allowed(pb.Reason_REASON_VALID)},
		{"public inference other workspace", public, inference, other, allowed(pb.Reason_REASON_VALID)},
		{"private download anonymous", private, download, anonymous, denied(pb.Reason_REASON_ZOO_NOT_FOUND)},
		{"private download own workspace", private, download, own, allowed(pb.Reason_REASON_VALID)},
		{"private download other workspace", private, download, other, denied(pb.Reason_REASON_ZOO_NOT_FOUND)},
		{"private inference anonymous", private, inference, anonymous, denied(pb.Reason_REASON_ZOO_NOT_FOUND)},
		{"private inference own workspace", private, inference, own, allowed(pb.Reason_REASON_VALID)},
		{"private inference other workspace", private, inference, other, denied(pb.Reason_REASON_ZOO_NOT_FOUND)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := policy.Decide(zoo(tt.vis), tt.op, tt.caller)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideFailsClosed covers everything outside the table: missing zoos,
// unspecified or unknown enum values, and callers no valid token produces.
func TestDecideFailsClosed(t *testing.T) {
	t.Parallel()
	notFound := denied(pb.Reason_REASON_ZOO_NOT_FOUND)
	tests := []struct {
		name   string
		zoo    *pb.Zoo
		op     pb.Operation
		caller policy.Caller
		want   policy.Decision
	}{
		{"nil zoo download anonymous", nil, download, anonymous, notFound},
		{"nil zoo download token", nil, download, own, notFound},
		{"nil zoo inference anonymous", nil, inference, anonymous, notFound},
		{"nil zoo inference token", nil, inference, other, notFound},
		{"unspecified visibility anonymous", zoo(pb.Visibility_VISIBILITY_UNSPECIFIED), download, anonymous, notFound},
		{"unspecified visibility own workspace", zoo(pb.Visibility_VISIBILITY_UNSPECIFIED), inference, own, notFound},
		{"unknown visibility own workspace", zoo(pb.Visibility(99)), download, own, notFound},
		{"unspecified operation public anonymous", zoo(public), pb.Operation_OPERATION_UNSPECIFIED, anonymous, notFound},
		{"unspecified operation public token", zoo(public), pb.Operation_OPERATION_UNSPECIFIED, other, notFound},
		{"unspecified operation private own workspace", zoo(private), pb.Operation_OPERATION_UNSPECIFIED, own, notFound},
		{"unknown operation public own workspace", zoo(public), pb.Operation(99), own, notFound},
		{"zero zoo own workspace", &pb.Zoo{}, download, own, notFound},
		{
			name:   "token without workspace on private zoo without workspace",
			zoo:    &pb.Zoo{Visibility: private},
			op:     download,
			caller: policy.Caller{},
			want:   denied(pb.Reason_REASON_UNKNOWN),
		},
		{
			name:   "token without workspace on public zoo",
			zoo:    zoo(public),
			op:     inference,
			caller: policy.Caller{},
			want:   denied(pb.Reason_REASON_UNKNOWN),
		},
		{
			name:   "anonymous with a workspace set on private zoo",
			zoo:    zoo(private),
			op:     download,
			caller: policy.Caller{Anonymous: true, WorkspaceID: "acme"},
			want:   notFound,
		},
		{
			name:   "anonymous with a workspace set on public inference",
			zoo:    zoo(public),
			op:     inference,
			caller: policy.Caller{Anonymous: true, WorkspaceID: "acme"},
			want:   denied(pb.Reason_REASON_TOKEN_REQUIRED),
		},
		{
			name:   "workspace differing only in case",
			zoo:    zoo(private),
			op:     download,
			caller: policy.Caller{WorkspaceID: "ACME"},
			want:   notFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := policy.Decide(tt.zoo, tt.op, tt.caller)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkDecide(b *testing.B) {
	z := zoo(private)
	for b.Loop() {
		policy.Decide(z, inference, own)
	}
}
