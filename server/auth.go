package server

import (
	"context"
	"crypto/x509"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/principal"
	"tokenauthority/tlsconfig"
)

// methodAccess says who may call a method.
type methodAccess int

const (
	// refused is the zero value: a method missing from requiredAccess is refused.
	refused methodAccess = iota
	// public methods need no service credential; they authenticate by the
	// token or seed in the request.
	public
	admin
	validator
	// owner methods are open to admins and to a workspace member signed in
	// through a trusted proxy (principal.TrustedUser), who may use them only on their
	// own tokens in workspaces they belong to: memberScope narrows each
	// request, list handlers filter their results.
	owner
	// gateway methods answer proxies, which usually hold no service
	// credential: public unless Config.GatewayCredential asks for a
	// validator credential.
	gateway
)

// requiredAccess is the one table of who may call what.
func requiredAccess(fullMethod string) methodAccess {
	switch fullMethod {
	case pb.WorkspaceService_ListWorkspaces_FullMethodName,
		pb.TokenService_CreateToken_FullMethodName,
		pb.TokenService_ListTokens_FullMethodName,
		pb.TokenService_GetToken_FullMethodName,
		pb.TokenService_RevealToken_FullMethodName,
		pb.TokenService_RevokeToken_FullMethodName,
		pb.TokenService_RollToken_FullMethodName,
		// The page asks who waits for a seed before creating its token.
		pb.TokenService_GetSeedPollers_FullMethodName:
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
		// UpdateToken stays with admins: a member could otherwise enable a
		// token an admin disabled, or widen its scopes or expiry.
		pb.TokenService_UpdateToken_FullMethodName,
		pb.TokenService_RevokeTokens_FullMethodName,
		pb.AuditService_ListAuditEvents_FullMethodName,
		pb.AuditService_VerifyAuditLog_FullMethodName,
		BackupMethod:
		return admin
	case pb.TokenService_ValidateToken_FullMethodName,
		pb.TokenService_CheckAccess_FullMethodName:
		return validator
	case pb.SelfService_GetTokenInfo_FullMethodName,
		pb.SelfService_RefreshToken_FullMethodName,
		pb.SelfService_PickSeedToken_FullMethodName,
		pb.TokenService_ReportLeakedTokens_FullMethodName:
		return public
	case EnvoyCheckMethod:
		return gateway
	}
	return refused
}

// authorize checks the service credential of the incoming request against the
// access fullMethod needs. It returns the caller (empty for public methods).
func (s *Server) authorize(ctx context.Context, fullMethod string) (principal.Principal, error) {
	need := requiredAccess(fullMethod)
	if need == gateway {
		need = public
		if s.gatewayCred {
			need = validator
		}
	}
	switch need {
	case public:
		return principal.Principal{}, nil
	case refused:
		return principal.Principal{}, status.Errorf(codes.PermissionDenied, "method %s is not open to any caller", fullMethod)
	}
	// A person signed in through the trusted proxy acts as themselves only,
	// whatever credential the request also carries.
	if user, ok := principal.TrustedUser(ctx); ok {
		if need != owner {
			return principal.Principal{}, status.Errorf(codes.PermissionDenied, "user %q is signed in as a workspace member, who may manage only their own tokens, not call %s", user, shortMethod(fullMethod))
		}
		return principal.Member(user), nil
	}
	entry, err := s.serviceCredential(ctx)
	if err != nil {
		return principal.Principal{}, err
	}
	want := credential.RoleAdmin // admin and owner
	if need == validator {
		want = credential.RoleValidator
	}
	if !entry.Role.Allows(want) {
		return principal.Principal{}, status.Errorf(codes.PermissionDenied, "credential %q has role %s, which may not call %s", entry.Name, entry.Role, shortMethod(fullMethod))
	}
	return principal.Credential(entry.Name), nil
}

// serviceCredential finds the service credential of a request: the bearer
// credential when one is sent, else the credential bound to the verified
// client certificate of a mutual TLS connection. A bearer credential wins so
// that a caller can act as another credential over the same connection; a
// wrong one is refused, never replaced by the certificate's.
func (s *Server) serviceCredential(ctx context.Context) (credential.Entry, error) {
	if secret, ok := bearer(ctx); ok {
		entry, ok := s.creds.Lookup(secret)
		if !ok {
			return credential.Entry{}, status.Error(codes.Unauthenticated, "the service credential is not valid")
		}
		return entry, nil
	}
	if leaf := clientCertificate(ctx); leaf != nil {
		entry, ok := s.creds.LookupIdentity(tlsconfig.Identities(leaf))
		if !ok {
			return credential.Entry{}, status.Error(codes.Unauthenticated, "the client certificate is bound to no service credential (or to more than one)")
		}
		return entry, nil
	}
	return credential.Entry{}, status.Error(codes.Unauthenticated, `a service credential is required: send "authorization: Bearer <credential>" or a client certificate bound to one`)
}

// clientCertificate returns the verified client certificate of the
// connection a request came on, or nil. The REST gateway puts its HTTPS
// connection's state into the context the same way gRPC does.
func clientCertificate(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil
	}
	return tlsconfig.VerifiedLeaf(&info.State)
}

// bearer returns the credential of an "authorization: Bearer <credential>"
// metadata entry. It reads that one key (metadata.FromIncomingContext
// would copy all of the request's metadata).
func bearer(ctx context.Context) (string, bool) {
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
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
