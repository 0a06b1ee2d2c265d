package server

import (
	"context"
	"log/slog"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
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
	if p, _ := ctx.Value(principalKey{}).(principal); p.name != "" && p.member == "" {
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

// reportLeakedTokens revokes every live token among the secrets. Every
// secret costs the same work (a hash and an index lookup in one write
// transaction that runs whether or not anything matched), malformed ones
// included, and the answer is always empty, so the call tells its caller
// nothing that presenting each secret would not.
func (s *Server) reportLeakedTokens(ctx context.Context, req *pb.ReportLeakedTokensRequest) (*pb.ReportLeakedTokensResponse, error) {
	secrets := req.GetSecrets()
	switch {
	case len(secrets) == 0:
		return nil, invalid("secrets", "is required")
	case len(secrets) > maxBatch:
		return nil, invalid("secrets", "must hold at most %d secrets, got %d", maxBatch, len(secrets))
	}
	hashes := make([][32]byte, len(secrets))
	for i, secret := range secrets {
		hashes[i] = token.Hash(secret)
	}
	recs, err := s.store.RevokeLeaked(ctx, hashes, s.now())
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		s.log.LogAttrs(ctx, slog.LevelWarn, "token revoked: reported as leaked",
			slog.String("token_id", r.GetToken().GetTokenId()),
			slog.String("workspace_id", r.GetToken().GetWorkspaceId()),
			slog.String("user_id", r.GetToken().GetUserId()))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "leak report", slog.Int("secrets", len(secrets)), slog.Int("revoked", len(recs)))
	return &pb.ReportLeakedTokensResponse{}, nil
}
