package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// wantInvalid checks that err is InvalidArgument whose field violation
// names field.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Errorf("%s: %v; want InvalidArgument on %s", what, err, field)
		return
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return
				}
			}
		}
	}
	t.Errorf("%s: %v; want a field violation on %s", what, err, field)
}

func TestRollToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, map[string]pb.Visibility{"priv": private})
	e.workspace(t, "beta", nil, nil)
	ctx := admin(t)
	created := e.clock.Now()
	old, oldSecret := e.token(t, "acme", "alice", &pb.CreateTokenRequest{
		Description: "ci", ExpireTime: timestamppb.New(created.Add(30 * 24 * time.Hour)),
		Operations: []pb.Operation{dl}, Zoos: []string{"acme/priv"},
	})
	e.clock.Advance(time.Hour)
	resp, err := e.tokens.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: old.GetTokenId(), Grace: durationpb.New(time.Hour)})
	if err != nil {
		t.Fatalf("RollToken: %v", err)
	}
	next := resp.GetToken()
	if next.GetDescription() != "ci" || next.GetReplaces() != old.GetTokenId() || next.GetFamilyId() != old.GetTokenId() ||
		len(next.GetOperations()) != 1 || len(next.GetZoos()) != 1 || next.GetState() != pb.TokenState_TOKEN_STATE_ACTIVE {
		t.Errorf("rolled token = %v; want the old description, scopes and family", next)
	}
	if got, want := next.GetExpireTime().AsTime().Sub(next.GetCreateTime().AsTime()), 30*24*time.Hour; got != want {
		t.Errorf("rolled lifetime = %v, want %v", got, want)
	}
	if v := e.validate(t, resp.GetSecret()); !v.GetValid() {
		t.Errorf("new secret: %v; want valid", v)
	}
	got, err := e.tokens.GetToken(ctx, &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: old.GetTokenId()})
	if err != nil {
		t.Fatal(err)
	}
	if rt := got.GetToken().GetRevokeTime(); rt == nil || !rt.AsTime().Equal(e.clock.Now().Add(time.Hour)) || got.GetToken().GetReplacedBy() != next.GetTokenId() {
		t.Errorf("old token = %v; want its revoke time scheduled an hour from now and replaced_by set", got.GetToken())
	}
	e.clock.Advance(time.Hour - time.Second)
	if v := e.validate(t, oldSecret); !v.GetValid() {
		t.Errorf("old secret within grace: %v; want valid", v)
	}
	e.clock.Advance(time.Second)
	if v := e.validate(t, oldSecret); v.GetReason() != pb.Reason_REASON_REVOKED || v.GetToken().GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_ROLLED {
		t.Errorf("old secret after grace: %v; want REVOKED for ROLLED", v)
	}

	// Grace 0: the old secret stops at once.
	again, err := e.tokens.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: next.GetTokenId()})
	if err != nil {
		t.Fatalf("RollToken without grace: %v", err)
	}
	if v := e.validate(t, resp.GetSecret()); v.GetReason() != pb.Reason_REASON_REVOKED {
		t.Errorf("secret rolled with no grace: %v; want REVOKED", v)
	}

	expiring, _ := e.token(t, "acme", "alice", &pb.CreateTokenRequest{ExpireTime: timestamppb.New(e.clock.Now().Add(time.Minute))})
	disabled, _ := e.token(t, "acme", "alice", nil)
	if _, err := e.tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "acme", TokenId: disabled.GetTokenId(), Disabled: true}, UpdateMask: mask("disabled")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	live := again.GetToken().GetTokenId()
	tests := []struct {
		name  string
		req   *pb.RollTokenRequest
		code  codes.Code
		field string
	}{
		{"grace over 7 days", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: live, Grace: durationpb.New(7*24*time.Hour + time.Second)}, codes.InvalidArgument, "grace"},
		{"negative grace", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: live, Grace: durationpb.New(-time.Second)}, codes.InvalidArgument, "grace"},
		{"bad token id", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: "nope"}, codes.InvalidArgument, "token_id"},
		{"bad workspace id", &pb.RollTokenRequest{WorkspaceId: "A", TokenId: live}, codes.InvalidArgument, "workspace_id"},
		{"another workspace", &pb.RollTokenRequest{WorkspaceId: "beta", TokenId: live}, codes.NotFound, ""},
		{"unknown token", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: strings.Repeat("0", 26)}, codes.NotFound, ""},
		{"revoked", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: old.GetTokenId()}, codes.FailedPrecondition, ""},
		{"expired", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: expiring.GetTokenId()}, codes.FailedPrecondition, ""},
		{"disabled", &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: disabled.GetTokenId()}, codes.FailedPrecondition, ""},
	}
	for _, tt := range tests {
		before := storedTokens(t, e, ctx)
		_, err := e.tokens.RollToken(ctx, tt.req)
		if tt.field != "" {
			wantInvalid(t, tt.name, err, tt.field)
		} else if status.Code(err) != tt.code {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.code)
		}
		after := storedTokens(t, e, ctx)
		if !proto.Equal(before, after) {
			t.Errorf("%s: a refused roll changed the stored tokens", tt.name)
		}
	}
	if _, err := e.tokens.RollToken(validator(t), &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: live}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("roll with a validator credential: %v; want PermissionDenied", err)
	}
}

func TestUpdateTokenDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, map[string]pb.Visibility{"pub": public})
	ctx := admin(t)
	tok, secret := e.token(t, "acme", "alice", nil)
	set := func(disabled bool) *pb.Token {
		t.Helper()
		got, err := e.tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{
			Token: &pb.Token{WorkspaceId: "acme", TokenId: tok.GetTokenId(), Disabled: disabled, Description: "ignored: not in the mask"}, UpdateMask: mask("disabled"),
		})
		if err != nil {
			t.Fatalf("UpdateToken(disabled=%v): %v", disabled, err)
		}
		return got.GetToken()
	}
	if got := set(true); got.GetState() != pb.TokenState_TOKEN_STATE_DISABLED || !got.GetDisabled() || got.GetDescription() != "test token" {
		t.Errorf("disabled token = %v; want DISABLED with its description unchanged", got)
	}
	if v := e.validate(t, secret); v.GetValid() || v.GetReason() != pb.Reason_REASON_DISABLED || v.GetToken().GetState() != pb.TokenState_TOKEN_STATE_DISABLED {
		t.Errorf("validate a disabled token: %v; want REASON_DISABLED, TOKEN_STATE_DISABLED", v)
	}
	a, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: secret, Zoo: "acme/pub", Operation: dl})
	if err != nil || a.GetAllowed() || a.GetReason() != pb.Reason_REASON_DISABLED {
		t.Errorf("access with a disabled token: %v, %v; want denied REASON_DISABLED", a, err)
	}
	if _, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret}); status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "disabled") {
		t.Errorf("SDK info with a disabled token: %v; want Unauthenticated saying disabled", err)
	}
	if _, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("SDK refresh with a disabled token: %v; want Unauthenticated", err)
	}
	if got := set(false); got.GetState() != pb.TokenState_TOKEN_STATE_ACTIVE {
		t.Errorf("enabled token = %v; want ACTIVE", got)
	}
	if v := e.validate(t, secret); !v.GetValid() {
		t.Errorf("validate an enabled token: %v; want valid", v)
	}

	// Description, expiry and scopes, in one call.
	exp := e.clock.Now().Add(48 * time.Hour)
	got, err := e.tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{Token: &pb.Token{
		WorkspaceId: "acme", TokenId: tok.GetTokenId(), Description: "renamed", ExpireTime: timestamppb.New(exp),
		Operations: []pb.Operation{cloud}, Zoos: []string{"acme/pub"},
	}, UpdateMask: mask("description", "expire_time", "operations", "zoos")})
	if err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	if g := got.GetToken(); g.GetDescription() != "renamed" || !g.GetExpireTime().AsTime().Equal(exp) || len(g.GetOperations()) != 1 || g.GetZoos()[0] != "acme/pub" {
		t.Errorf("updated token = %v", g)
	}
	a, err = e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: secret, Zoo: "acme/pub", Operation: dl})
	if err != nil || a.GetAllowed() || a.GetReason() != pb.Reason_REASON_OUT_OF_SCOPE {
		t.Errorf("download with a token narrowed to inference: %v, %v; want REASON_OUT_OF_SCOPE", a, err)
	}
	// Clearing the expiry with the SDK's "never" marker.
	got, err = e.tokens.UpdateToken(ctx, &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "acme", TokenId: tok.GetTokenId(),
		ExpireTime: &timestamppb.Timestamp{Seconds: -62135596800}}, UpdateMask: mask("expire_time")})
	if err != nil || got.GetToken().GetExpireTime() != nil {
		t.Errorf("clear expiry = %v, %v; want no expiry", got, err)
	}
}

func TestUpdateTokenBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	e.workspace(t, "beta", nil, nil)
	ctx := admin(t)
	tok, _ := e.token(t, "acme", "alice", nil)
	revoked, _ := e.token(t, "acme", "alice", nil)
	if _, err := e.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: revoked.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	id := tok.GetTokenId()
	ref := func(mod func(*pb.Token)) *pb.Token {
		x := &pb.Token{WorkspaceId: "acme", TokenId: id}
		mod(x)
		return x
	}
	same := func(*pb.Token) {}
	tests := []struct {
		name  string
		req   *pb.UpdateTokenRequest
		code  codes.Code
		field string
		says  string
	}{
		{"no token", &pb.UpdateTokenRequest{UpdateMask: mask("disabled")}, codes.InvalidArgument, "token", ""},
		{"no mask", &pb.UpdateTokenRequest{Token: ref(same)}, codes.InvalidArgument, "update_mask", "required"},
		{"unknown path", &pb.UpdateTokenRequest{Token: ref(same), UpdateMask: mask("user_id")}, codes.InvalidArgument, "update_mask", `"user_id"`},
		{"state is not settable", &pb.UpdateTokenRequest{Token: ref(same), UpdateMask: mask("disabled", "state")}, codes.InvalidArgument, "update_mask", `"state"`},
		{"path twice", &pb.UpdateTokenRequest{Token: ref(same), UpdateMask: mask("disabled", "disabled")}, codes.InvalidArgument, "update_mask", "twice"},
		{"full replacement", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.Disabled = true }), UpdateMask: mask("*")}, codes.InvalidArgument, "update_mask", "description, expire_time, disabled, operations, zoos"},
		{"empty path", &pb.UpdateTokenRequest{Token: ref(same), UpdateMask: mask("")}, codes.InvalidArgument, "update_mask", `""`},
		{"wildcard beside a path", &pb.UpdateTokenRequest{Token: ref(same), UpdateMask: mask("disabled", "*")}, codes.InvalidArgument, "update_mask", "*"},
		{"bad workspace", &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "Acme", TokenId: id}, UpdateMask: mask("disabled")}, codes.InvalidArgument, "token.workspace_id", ""},
		{"bad token id", &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "acme", TokenId: "x"}, UpdateMask: mask("disabled")}, codes.InvalidArgument, "token.token_id", ""},
		{"control character", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.Description = "a\nb" }), UpdateMask: mask("description")}, codes.InvalidArgument, "token.description", ""},
		{"bidi override", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.Description = "safe\u202egnp.exe" }), UpdateMask: mask("description")}, codes.InvalidArgument, "token.description", ""},
		{"zero-width space", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.Description = "a\u200bb" }), UpdateMask: mask("description")}, codes.InvalidArgument, "token.description", ""},
		{"past expiry", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.ExpireTime = timestamppb.New(e.clock.Now().Add(-time.Second)) }), UpdateMask: mask("expire_time")}, codes.InvalidArgument, "token.expire_time", ""},
		{"malformed expiry", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.ExpireTime = &timestamppb.Timestamp{Nanos: -1} }), UpdateMask: mask("expire_time")}, codes.InvalidArgument, "token.expire_time", ""},
		{"unspecified operation", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.Operations = []pb.Operation{0} }), UpdateMask: mask("operations")}, codes.InvalidArgument, "token.operations", ""},
		{"bad zoo", &pb.UpdateTokenRequest{Token: ref(func(x *pb.Token) { x.Zoos = []string{"acme"} }), UpdateMask: mask("zoos")}, codes.InvalidArgument, "token.zoos", ""},
		{"another workspace", &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "beta", TokenId: id}, UpdateMask: mask("disabled")}, codes.NotFound, "", ""},
		{"revoked", &pb.UpdateTokenRequest{Token: &pb.Token{WorkspaceId: "acme", TokenId: revoked.GetTokenId()}, UpdateMask: mask("disabled")}, codes.FailedPrecondition, "", "revoked"},
	}
	for _, tt := range tests {
		before := storedTokens(t, e, ctx)
		_, err := e.tokens.UpdateToken(ctx, tt.req)
		if tt.field != "" {
			wantInvalid(t, tt.name, err, tt.field)
		} else if status.Code(err) != tt.code {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.code)
		}
		if tt.says != "" && !strings.Contains(status.Convert(err).Message(), tt.says) {
			t.Errorf("%s: %v; want the message to say %s", tt.name, err, tt.says)
		}
		after := storedTokens(t, e, ctx)
		if !proto.Equal(before, after) {
			t.Errorf("%s: a refused update changed the stored tokens", tt.name)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, map[string]pb.Visibility{"pub": public, "priv": private, "other": private})
	e.workspace(t, "globex", []string{"gus"}, map[string]pb.Visibility{"secret": private, "pub": public})
	_, dlOnly := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Operations: []pb.Operation{dl}})
	_, privOnly := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Zoos: []string{"acme/priv", "globex/secret"}})
	tests := []struct {
		name    string
		secret  string
		zoo     string
		op      pb.Operation
		allowed bool
		reason  pb.Reason
	}{
		{"download in scope", dlOnly, "acme/priv", dl, true, pb.Reason_REASON_VALID},
		{"inference out of scope", dlOnly, "acme/priv", cloud, false, pb.Reason_REASON_OUT_OF_SCOPE},
		{"public inference out of scope", dlOnly, "globex/pub", cloud, false, pb.Reason_REASON_OUT_OF_SCOPE},
		{"scoped zoo", privOnly, "acme/priv", cloud, true, pb.Reason_REASON_VALID},
		{"other zoo of the workspace", privOnly, "acme/other", dl, false, pb.Reason_REASON_OUT_OF_SCOPE},
		{"public download outside the zoo scope", privOnly, "acme/pub", dl, false, pb.Reason_REASON_OUT_OF_SCOPE},
		{"scope naming another workspace's private zoo", privOnly, "globex/secret", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND},
		{"missing zoo", privOnly, "acme/missing", dl, false, pb.Reason_REASON_ZOO_NOT_FOUND},
	}
	for _, tt := range tests {
		a, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: tt.secret, Zoo: tt.zoo, Operation: tt.op})
		if err != nil {
			t.Fatalf("%s: CheckAccess: %v", tt.name, err)
		}
		if a.GetAllowed() != tt.allowed || a.GetReason() != tt.reason {
			t.Errorf("%s: %v; want allowed=%v %v", tt.name, a, tt.allowed, tt.reason)
		}
	}
	for _, tt := range []struct {
		name  string
		req   *pb.CreateTokenRequest
		field string
	}{
		{"unspecified operation", &pb.CreateTokenRequest{Operations: []pb.Operation{0}}, "operations"},
		{"unknown operation", &pb.CreateTokenRequest{Operations: []pb.Operation{9}}, "operations"},
		{"operation twice", &pb.CreateTokenRequest{Operations: []pb.Operation{dl, dl}}, "operations"},
		{"zoo without workspace", &pb.CreateTokenRequest{Zoos: []string{"priv"}}, "zoos"},
		{"zoo uppercase", &pb.CreateTokenRequest{Zoos: []string{"acme/Priv"}}, "zoos"},
		{"zoo twice", &pb.CreateTokenRequest{Zoos: []string{"acme/priv", "acme/priv"}}, "zoos"},
		{"too many zoos", &pb.CreateTokenRequest{Zoos: func() []string {
			z := make([]string, 101)
			for i := range z {
				z[i] = "acme/z" + strings.Repeat("x", i%60) + string(rune('a'+i%26)) + string(rune('a'+i/26))
			}
			return z
		}()}, "zoos"},
	} {
		tt.req.WorkspaceId, tt.req.UserId = "acme", "alice"
		_, err := e.tokens.CreateToken(admin(t), tt.req)
		wantInvalid(t, tt.name, err, tt.field)
	}
}

// TestUpdateTokenIgnoresFieldsOutsideTheMask: AIP-134, only masked fields
// are read, so a client may send back a whole token it got earlier.
func TestUpdateTokenIgnoresFieldsOutsideTheMask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	tok, _ := e.token(t, "acme", "alice", &pb.CreateTokenRequest{Operations: []pb.Operation{dl}})
	whole := proto.CloneOf(tok)
	whole.Description = "renamed"
	whole.Operations = []pb.Operation{0}                 // invalid, but not in the mask
	whole.UserId, whole.MaskedKey = "eve", "tka_...xxxx" // output fields, not in the mask
	got, err := e.tokens.UpdateToken(admin(t), &pb.UpdateTokenRequest{Token: whole, UpdateMask: mask("description")})
	if err != nil {
		t.Fatalf("UpdateToken: %v", err)
	}
	want := proto.CloneOf(tok)
	want.Description = "renamed"
	if !proto.Equal(got.GetToken(), want) {
		t.Errorf("UpdateToken = %v, want %v", got.GetToken(), want)
	}
}

// storedTokens lists every token of acme, revoked ones too, failing the
// test when the list itself fails: an empty answer from a failed call
// would make a "nothing changed" comparison pass by accident.
func storedTokens(t *testing.T, e *env, ctx context.Context) *pb.ListTokensResponse {
	t.Helper()
	resp, err := e.tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme", ShowRevoked: true, PageSize: 1000})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if resp.GetNextPageToken() != "" {
		t.Fatalf("ListTokens: more than one page of tokens; the comparison would miss some")
	}
	return resp
}
