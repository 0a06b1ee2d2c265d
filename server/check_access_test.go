package server_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/token"
)

const (
	public  = pb.Visibility_VISIBILITY_PUBLIC
	private = pb.Visibility_VISIBILITY_PRIVATE
	dl      = pb.Operation_OPERATION_DOWNLOAD
	cloud   = pb.Operation_OPERATION_CLOUD_INFERENCE
)

// TestAccessTable checks every row of the access table of the product brief,
// plus tokens that are presented but not valid.
func TestAccessTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice", "carol"}, map[string]pb.Visibility{"pub": public, "priv": private})
	e.workspace(t, "other", []string{"bob"}, nil)
	own, ownSecret := e.token(t, "acme", "alice", nil)
	_, otherSecret := e.token(t, "other", "bob", nil)
	_, expiredSecret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(e.clock.Now().Add(time.Minute))})
	revoked, revokedSecret := e.token(t, "acme", "alice", nil)
	if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: revoked.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	_, leftSecret := e.token(t, "acme", "carol", nil)
	if _, err := e.workspaces.RemoveMember(admin(t), &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "carol"}); err != nil {
		t.Fatal(err)
	}
	unknownSecret, err := token.New()
	if err != nil {
		t.Fatal(err)
	}
	malformed := ownSecret[:len(ownSecret)-1] + flip(ownSecret[len(ownSecret)-1])
	e.clock.Advance(2 * time.Minute) // expires expiredSecret

	type row struct {
		zoo     string
		op      pb.Operation
		secret  string
		allowed bool
		reason  pb.Reason
	}
	R := func(zoo string, op pb.Operation, secret string, allowed bool, reason pb.Reason) row {
		return row{zoo, op, secret, allowed, reason}
	}
	const (
		valid      = pb.Reason_REASON_VALID
		anon       = pb.Reason_REASON_PUBLIC
		needsToken = pb.Reason_REASON_TOKEN_REQUIRED
		notFound   = pb.Reason_REASON_ZOO_NOT_FOUND
	)
	rows := []row{
		// zoo          operation  token        allowed reason
		R("acme/pub", dl, "", true, anon),
		R("acme/pub", dl, ownSecret, true, valid),
		R("acme/pub", dl, otherSecret, true, valid),
		R("acme/pub", cloud, "", false, needsToken),
		R("acme/pub", cloud, ownSecret, true, valid),
		R("acme/pub", cloud, otherSecret, true, valid),
		R("acme/priv", dl, "", false, notFound),
		R("acme/priv", dl, ownSecret, true, valid),
		R("acme/priv", dl, otherSecret, false, notFound),
		R("acme/priv", cloud, "", false, notFound),
		R("acme/priv", cloud, ownSecret, true, valid),
		R("acme/priv", cloud, otherSecret, false, notFound),
		// A private zoo the caller may not see answers like a missing one.
		R("acme/missing", dl, "", false, notFound),
		R("acme/missing", dl, otherSecret, false, notFound),
		R("nobody/zoo", cloud, ownSecret, false, notFound),
		// A bad token is refused with its reason even where no token would pass.
		R("acme/pub", dl, malformed, false, pb.Reason_REASON_MALFORMED),
		R("acme/pub", dl, "not-a-token", false, pb.Reason_REASON_MALFORMED),
		R("acme/pub", dl, unknownSecret, false, pb.Reason_REASON_UNKNOWN),
		R("acme/pub", dl, expiredSecret, false, pb.Reason_REASON_EXPIRED),
		R("acme/pub", dl, revokedSecret, false, pb.Reason_REASON_REVOKED),
		R("acme/pub", dl, leftSecret, false, pb.Reason_REASON_REVOKED),
		R("acme/priv", cloud, revokedSecret, false, pb.Reason_REASON_REVOKED),
	}
	names := map[string]string{"": "none", ownSecret: "own", otherSecret: "other", malformed: "malformed", "not-a-token": "garbage",
		unknownSecret: "unknown", expiredSecret: "expired", revokedSecret: "revoked", leftSecret: "member-removed"}
	for _, r := range rows {
		t.Run(r.zoo+"/"+r.op.String()+"/"+names[r.secret], func(t *testing.T) {
			got, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: r.secret, Zoo: r.zoo, Operation: r.op})
			if err != nil {
				t.Fatalf("CheckAccess: %v", err)
			}
			want := &pb.CheckAccessResponse{Allowed: r.allowed, Reason: r.reason}
			if r.secret == ownSecret {
				want.WorkspaceId, want.TokenId, want.UserId = "acme", own.GetTokenId(), "alice"
			}
			if r.secret == otherSecret {
				want.WorkspaceId, want.UserId = "other", "bob"
			}
			if diff := cmp.Diff(want, got, protocmp.Transform(), protocmp.IgnoreFields(&pb.CheckAccessResponse{}, "token_id")); diff != "" {
				t.Errorf("CheckAccess mismatch (-want +got):\n%s", diff)
			}
			if r.secret == ownSecret && got.GetTokenId() != own.GetTokenId() {
				t.Errorf("token_id = %q, want %q", got.GetTokenId(), own.GetTokenId())
			}
		})
	}
}

func TestCheckAccessRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name string
		req  *pb.CheckAccessRequest
	}{
		{"no zoo", &pb.CheckAccessRequest{Operation: dl}},
		{"zoo without slash", &pb.CheckAccessRequest{Zoo: "acme", Operation: dl}},
		{"zoo with bad characters", &pb.CheckAccessRequest{Zoo: "Acme/Zoo", Operation: dl}},
		{"zoo with three parts", &pb.CheckAccessRequest{Zoo: "a/b/c", Operation: dl}},
		{"no operation", &pb.CheckAccessRequest{Zoo: "acme/pub"}},
		{"unknown operation", &pb.CheckAccessRequest{Zoo: "acme/pub", Operation: 99}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.tokens.CheckAccess(validator(t), tc.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("CheckAccess(%v) = %v; want InvalidArgument", tc.req, err)
			}
		})
	}
}

// flip returns another character of the token alphabet.
func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}
