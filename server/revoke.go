package server

import (
	"context"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/principal"
	"tokenauthority/token"
)

// maxBatch caps the token ids of RevokeTokens and the secrets of
// ReportLeakedTokens.
const maxBatch = 1000

func (t *tokenService) RevokeTokens(ctx context.Context, req *pb.RevokeTokensRequest) (*pb.RevokeTokensResponse, error) {
	return handle(ctx, t.s, pb.TokenService_RevokeTokens_FullMethodName, req, (*Server).revokeTokens)
}

func (t *tokenService) ReportLeakedTokens(ctx context.Context, req *pb.ReportLeakedTokensRequest) (*pb.ReportLeakedTokensResponse, error) {
	return handle(ctx, t.s, pb.TokenService_ReportLeakedTokens_FullMethodName, req, (*Server).reportLeakedTokens)
}

// revokeReason is the reason recorded when the caller of ctx revokes a
// token: ADMIN for a service credential, USER for a member revoking their
// own token (member mode).
func revokeReason(ctx context.Context) pb.RevokeReason {
	if p, _ := principal.FromContext(ctx); p.IsCredential() {
		return pb.RevokeReason_REVOKE_REASON_ADMIN
	}
	return pb.RevokeReason_REVOKE_REASON_USER
}

// revokeTokens revokes all of a user's tokens in a workspace, or the listed
// ones, in one commit. With token_ids, an id that is not a token of the
// workspace makes the whole call NotFound and nothing is revoked; tokens
// already revoked are left as they are and not returned.
func (s *Server) revokeTokens(ctx context.Context, req *pb.RevokeTokensRequest) (*pb.RevokeTokensResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	user, ids := req.GetUserId(), req.GetTokenIds()
	switch {
	case user == "" && len(ids) == 0:
		return nil, invalid("user_id", "or token_ids is required")
	case user != "" && len(ids) > 0:
		return nil, invalid("token_ids", "must be empty when user_id is given: give one of user_id and token_ids")
	case len(ids) > maxBatch:
		return nil, invalid("token_ids", "must hold at most %d ids, got %d", maxBatch, len(ids))
	}
	for i, id := range ids {
		if !token.ValidID(id) {
			return nil, invalid("token_ids", "entry %d is not a token id (26 characters of [0-9a-z])", i)
		}
	}
	now := s.now()
	reason := revokeReason(ctx)
	var err error
	resp := &pb.RevokeTokensResponse{}
	var recs []*storagepb.TokenRecord
	if user != "" {
		if err := checkID("user_id", user); err != nil {
			return nil, err
		}
		recs, err = s.store.RevokeUserTokens(ctx, req.GetWorkspaceId(), user, now, reason)
	} else {
		recs, err = s.store.RevokeTokens(ctx, req.GetWorkspaceId(), ids, now, reason)
	}
	if err != nil {
		return nil, err
	}
	if resp.Tokens, err = s.viewsIn(ctx, req.GetWorkspaceId(), now, recs...); err != nil {
		return nil, err
	}
	return resp, nil
}

// reportLeakedTokens takes a report of leaked secrets and answers it
// before looking them up: the worker of leaks.go revokes every live token
// among them later, in one commit with the report's audit event, and a
// report that matched nothing writes nothing. So the answer, always empty,
// and its timing are the same whether anything matched, and an unmatched
// flood costs a read per report, not a commit. The answer means the report
// was taken, not that its tokens are revoked already: a report only
// hastens what the token's owner can do (revoke it), and an answered
// report still queued when the process dies is lost.
func (s *Server) reportLeakedTokens(ctx context.Context, req *pb.ReportLeakedTokensRequest) (*pb.ReportLeakedTokensResponse, error) {
	secrets := req.GetSecrets()
	switch {
	case len(secrets) == 0:
		return nil, invalid("secrets", "is required")
	case len(secrets) > maxBatch:
		return nil, invalid("secrets", "must hold at most %d secrets, got %d", maxBatch, len(secrets))
	}
	r := leakReport{hashes: make([][32]byte, len(secrets))}
	for i, secret := range secrets {
		r.hashes[i] = token.Hash(secret)
	}
	// The event is recorded by the worker's commit, if anything matched;
	// the request's own Pending stays unrecorded.
	r.event = audit.FromContext(ctx).Draft()
	if err := s.enqueueLeakReport(r); err != nil {
		return nil, err
	}
	return &pb.ReportLeakedTokensResponse{}, nil
}
