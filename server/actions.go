package server

import (
	pb "tokenauthority/gen/tokenauthority/v1"
)

// notAudited is the action of a method that changes nothing and reveals no
// secret.
const notAudited = ""

// auditAction is the one table of what each method records in the audit log:
// an action "<entity>.<verb>", or notAudited. It returns false for a method
// missing from the table, which handle refuses, so no new RPC can change
// state without leaving an event; TestEveryMethodHasAnAuditAction walks the
// proto descriptors against it.
func auditAction(fullMethod string) (string, bool) {
	switch fullMethod {
	case pb.WorkspaceService_GetWorkspace_FullMethodName,
		pb.WorkspaceService_ListWorkspaces_FullMethodName,
		pb.WorkspaceService_GetMember_FullMethodName,
		pb.WorkspaceService_ListMembers_FullMethodName,
		pb.WorkspaceService_GetZoo_FullMethodName,
		pb.WorkspaceService_ListZoos_FullMethodName,
		pb.TokenService_ListTokens_FullMethodName,
		pb.TokenService_GetToken_FullMethodName,
		pb.TokenService_GetSeedPollers_FullMethodName,
		pb.TokenService_ValidateToken_FullMethodName,
		pb.TokenService_CheckAccess_FullMethodName,
		pb.SelfService_GetTokenInfo_FullMethodName,
		pb.AuditService_ListAuditEvents_FullMethodName,
		pb.AuditService_VerifyAuditLog_FullMethodName,
		// Envoy's ext_authz Check decides like CheckAccess.
		EnvoyCheckMethod:
		return notAudited, true
	case pb.WorkspaceService_CreateWorkspace_FullMethodName:
		return "workspace.create", true
	case pb.WorkspaceService_UpdateWorkspace_FullMethodName:
		return "workspace.update", true
	case pb.WorkspaceService_DeleteWorkspace_FullMethodName:
		return "workspace.delete", true
	case pb.WorkspaceService_AddMember_FullMethodName:
		return "member.add", true
	case pb.WorkspaceService_RemoveMember_FullMethodName:
		return "member.remove", true
	case pb.WorkspaceService_CreateZoo_FullMethodName:
		return "zoo.create", true
	case pb.WorkspaceService_UpdateZoo_FullMethodName:
		return "zoo.update", true
	case pb.WorkspaceService_DeleteZoo_FullMethodName:
		return "zoo.delete", true
	case pb.TokenService_CreateToken_FullMethodName:
		return "token.create", true
	case pb.TokenService_RevealToken_FullMethodName:
		// Reading a secret is recorded although it changes nothing.
		return "token.reveal", true
	case pb.TokenService_RevokeToken_FullMethodName:
		return "token.revoke", true
	case pb.TokenService_UpdateToken_FullMethodName:
		return "token.update", true
	case pb.TokenService_RollToken_FullMethodName:
		return "token.roll", true
	case pb.TokenService_RevokeTokens_FullMethodName:
		return "token.batch_revoke", true
	case pb.TokenService_ReportLeakedTokens_FullMethodName:
		return "token.report_leaked", true
	case pb.SelfService_RefreshToken_FullMethodName:
		return "token.refresh", true
	case pb.SelfService_PickSeedToken_FullMethodName:
		return "seed.pick", true
	case BackupMethod:
		// A copy of every sealed secret: recorded although it changes
		// nothing (backup.go records it; it does not go through handle).
		return "store.backup", true
	}
	return "", false
}
