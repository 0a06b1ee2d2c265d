package server

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// access says who may call a method.
type access int

const (
	// refused is the zero value: a method missing from requiredAccess is refused.
	refused access = iota
	// public methods need no service credential; they authenticate by the
	// token or seed in the request.
	public
	admin
	validator
	// owner methods are open to admins and to a workspace member signed in
	// through a trusted proxy (TrustedUser), who may use them only on their
	// own tokens in workspaces they belong to: memberScope narrows each
	// request, list handlers filter their results.
	owner
)

// requiredAccess is the one table of who may call what.
func requiredAccess(fullMethod string) access {
	switch fullMethod {
	case pb.WorkspaceService_ListWorkspaces_FullMethodName,
		pb.TokenService_CreateToken_FullMethodName,
		pb.TokenService_ListTokens_FullMethodName,
		pb.TokenService_GetToken_FullMethodName,
		pb.TokenService_RevealToken_FullMethodName,
		pb.TokenService_RevokeToken_FullMethodName:
		return owner
	case pb.WorkspaceService_CreateWorkspace_FullMethodName,
		pb.WorkspaceService_GetWorkspace_FullMethodName,
		pb.WorkspaceService_DeleteWorkspace_FullMethodName,
		pb.WorkspaceService_UpdateWorkspace_FullMethodName,
		pb.WorkspaceService_AddMember_FullMethodName,
		pb.WorkspaceService_GetMember_FullMethodName,
		pb.WorkspaceService_ListMembers_FullMethodName,
		pb.WorkspaceService_RemoveMember_FullMethodName,
		pb.WorkspaceService_CreateZoo_FullMethodName,
		pb.WorkspaceService_GetZoo_FullMethodName,
		pb.WorkspaceService_ListZoos_FullMethodName,
		pb.WorkspaceService_UpdateZoo_FullMethodName,
		pb.WorkspaceService_DeleteZoo_FullMethodName,
		pb.TokenService_UpdateToken_FullMethodName,
		pb.TokenService_RollToken_FullMethodName,
		pb.TokenService_RevokeTokens_FullMethodName,
		pb.AuditService_ListAuditEvents_FullMethodName,
		pb.AuditService_VerifyAuditLog_FullMethodName:
		return admin
	case pb.TokenService_ValidateToken_FullMethodName,
		pb.TokenService_CheckAccess_FullMethodName:
		return validator
	case pb.SelfService_GetTokenInfo_FullMethodName,
		pb.SelfService_RefreshToken_FullMethodName,
		pb.SelfService_PickSeedToken_FullMethodName,
		pb.TokenService_ReportLeakedTokens_FullMethodName:
		return public
	}
	return refused
}

// principal is the authenticated caller of a request.
type principal struct {
	name string
	role credential.Role
	// member is the user id of a workspace member signed in through a
	// trusted proxy; empty for service credentials.
	member string
}

// authorize checks the service credential of the incoming request against the
// access fullMethod needs. It returns the caller (empty for public methods).
func (s *Server) authorize(ctx context.Context, fullMethod string) (principal, error) {
	need := requiredAccess(fullMethod)
	switch need {
	case public:
		return principal{}, nil
	case refused:
		return principal{}, status.Errorf(codes.PermissionDenied, "method %s is not open to any caller", fullMethod)
	}
	// A person signed in through the trusted proxy acts as themselves only,
	// whatever credential the request also carries.
	if user, ok := TrustedUser(ctx); ok {
		if need != owner {
			return principal{}, status.Errorf(codes.PermissionDenied, "user %q is signed in as a workspace member, who may manage only their own tokens, not call %s", user, shortMethod(fullMethod))
		}
		return principal{name: "user:" + user, member: user}, nil
	}
	secret, ok := bearer(ctx)
	if !ok {
		return principal{}, status.Error(codes.Unauthenticated, `a service credential is required: send "authorization: Bearer <credential>"`)
	}
	entry, ok := s.creds.Lookup(secret)
	if !ok {
		return principal{}, status.Error(codes.Unauthenticated, "the service credential is not valid")
	}
	want := credential.RoleAdmin // admin and owner
	if need == validator {
		want = credential.RoleValidator
	}
	if !entry.Role.Allows(want) {
		return principal{}, status.Errorf(codes.PermissionDenied, "credential %q has role %s, which may not call %s", entry.Name, entry.Role, shortMethod(fullMethod))
	}
	return principal{name: entry.Name, role: entry.Role}, nil
}

// bearer returns the credential of an "authorization: Bearer <credential>"
// metadata entry.
func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, cred, found := strings.Cut(strings.TrimSpace(v), " ")
		if found && strings.EqualFold(scheme, "bearer") {
			if cred = strings.TrimSpace(cred); cred != "" {
				return cred, true
			}
		}
	}
	return "", false
}

// shortMethod turns "/pkg.Service/Method" into "Method".
func shortMethod(fullMethod string) string {
	if i := strings.LastIndexByte(fullMethod, '/'); i >= 0 {
		return fullMethod[i+1:]
	}
	return fullMethod
}
