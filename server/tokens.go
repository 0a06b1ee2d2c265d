package server

import (
	"context"
	"crypto/sha256"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
	"tokenauthority/token"
)

// tokenService implements pb.TokenServiceServer.
type tokenService struct {
	pb.UnimplementedTokenServiceServer
	s *Server
}

func (t *tokenService) CreateToken(ctx context.Context, req *pb.CreateTokenRequest) (*pb.CreateTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_CreateToken_FullMethodName, req, (*Server).createToken)
}

func (t *tokenService) ListTokens(ctx context.Context, req *pb.ListTokensRequest) (*pb.ListTokensResponse, error) {
	return handle(ctx, t.s, pb.TokenService_ListTokens_FullMethodName, req, (*Server).listTokens)
}

func (t *tokenService) GetToken(ctx context.Context, req *pb.GetTokenRequest) (*pb.GetTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_GetToken_FullMethodName, req, (*Server).getToken)
}

func (t *tokenService) RevealToken(ctx context.Context, req *pb.RevealTokenRequest) (*pb.RevealTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_RevealToken_FullMethodName, req, (*Server).revealToken)
}

func (t *tokenService) RevokeToken(ctx context.Context, req *pb.RevokeTokenRequest) (*pb.RevokeTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_RevokeToken_FullMethodName, req, (*Server).revokeToken)
}

func (t *tokenService) ValidateToken(ctx context.Context, req *pb.ValidateTokenRequest) (*pb.ValidateTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_ValidateToken_FullMethodName, req, (*Server).validateToken)
}

func (t *tokenService) CheckAccess(ctx context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	return handle(ctx, t.s, pb.TokenService_CheckAccess_FullMethodName, req, (*Server).checkAccess)
}

func (s *Server) createToken(ctx context.Context, req *pb.CreateTokenRequest) (*pb.CreateTokenResponse, error) {
	if err := checkIDs("workspace_id", req.GetWorkspaceId(), "user_id", req.GetUserId()); err != nil {
		return nil, err
	}
	if err := checkText("description", req.GetDescription(), maxDescription); err != nil {
		return nil, err
	}
	ops, zoos, err := checkScopes("", req.GetOperations(), req.GetZoos())
	if err != nil {
		return nil, err
	}
	requested, err := requestedExpiry("expire_time", req.GetExpireTime())
	if err != nil {
		return nil, err
	}
	policy, err := s.store.GetTokenPolicy(ctx, req.GetWorkspaceId())
	if err != nil {
		return nil, err
	}
	now := s.now()
	exp, err := s.lifetimeLimits(policy).Issue(requested, now)
	if err != nil {
		return nil, err
	}
	var seedHash *[sha256.Size]byte
	if req.GetSeed() != "" {
		if err := checkSeed(req.GetSeed()); err != nil {
			return nil, err
		}
		h := sha256.Sum256([]byte(req.GetSeed()))
		seedHash = &h
	}
	rec, secret, err := s.newRecord(&pb.Token{
		WorkspaceId: req.GetWorkspaceId(),
		UserId:      req.GetUserId(),
		Description: req.GetDescription(),
		Operations:  ops,
		Zoos:        zoos,
	}, now, exp)
	if err != nil {
		return nil, err
	}
	var park *storage.SeedPark
	if seedHash != nil {
		// Marked for good, so that lists, tokenctl and audits can tell a
		// token handed to whatever program polled the seed.
		rec.Token.CreatedForSeed = true
		markAuditCreatedForSeed(ctx)
		sealed, err := s.box.Seal([]byte(secret), seedHash[:])
		if err != nil {
			return nil, err
		}
		park = &storage.SeedPark{Hash: *seedHash, Record: &storagepb.SeedRecord{
			TokenId:      rec.GetToken().GetTokenId(),
			SealedSecret: sealed,
			ExpireTime:   timestamppb.New(now.Add(s.seedTTL)),
		}}
	}
	setAuditTarget(ctx, "", rec.GetToken().GetTokenId())
	if err := s.store.CreateToken(ctx, rec, park); err != nil {
		return nil, err
	}
	return &pb.CreateTokenResponse{Token: viewUnder(rec, policy, now), Secret: secret}, nil
}

// newRecord makes a fresh secret and the record that stores it, for a token
// with the workspace, user and description of base.
func (s *Server) newRecord(base *pb.Token, now, exp time.Time) (*storagepb.TokenRecord, string, error) {
	secret, err := token.New()
	if err != nil {
		return nil, "", err
	}
	id, err := token.NewID(now)
	if err != nil {
		return nil, "", err
	}
	t := &pb.Token{
		TokenId:     id,
		WorkspaceId: base.GetWorkspaceId(),
		UserId:      base.GetUserId(),
		Description: base.GetDescription(),
		MaskedKey:   token.Mask(secret),
		CreateTime:  timestamppb.New(now),
		Operations:  base.GetOperations(),
		Zoos:        base.GetZoos(),
		FamilyId:    id,
	}
	if !exp.IsZero() {
		t.ExpireTime = timestamppb.New(exp)
	}
	hash := token.Hash(secret)
	rec := &storagepb.TokenRecord{Token: t, SecretHash: hash[:]}
	if s.reveal {
		if rec.SealedSecret, err = s.box.Seal([]byte(secret), []byte(id)); err != nil {
			return nil, "", err
		}
	}
	return rec, secret, nil
}

func (s *Server) listTokens(ctx context.Context, req *pb.ListTokensRequest) (*pb.ListTokensResponse, error) {
	if err := checkID("workspace_id", req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	now := s.now()
	filter, err := newTokenFilter(req, now)
	if err != nil {
		return nil, err
	}
	filter.user = memberOf(ctx)
	kind := filter.pageKind(req.GetWorkspaceId())
	limit, before, err := listArgs(req.GetPageSize(), kind, req.GetPageToken())
	if err != nil {
		return nil, err
	}
	// The filter and the shown state both apply the workspace's policy, so
	// a token stopped by a lowered limit is listed, and filtered, as expired.
	if filter.policy, err = s.store.GetTokenPolicy(ctx, req.GetWorkspaceId()); err != nil {
		return nil, err
	}
	if !filter.expireBefore.IsZero() {
		return s.listExpiring(ctx, req.GetWorkspaceId(), filter, kind, limit, before)
	}
	recs, err := s.store.ListTokensMatching(ctx, req.GetWorkspaceId(), before, limit+1, filter.match)
	if err != nil {
		return nil, err
	}
	recs, next := page(recs, limit, kind, func(r *storagepb.TokenRecord) string { return r.GetToken().GetTokenId() })
	resp := &pb.ListTokensResponse{Tokens: make([]*pb.Token, len(recs)), NextPageToken: next}
	for i, r := range recs {
		resp.Tokens[i] = viewUnder(r, filter.policy, now)
	}
	return resp, nil
}

func (s *Server) getToken(ctx context.Context, req *pb.GetTokenRequest) (*pb.GetTokenResponse, error) {
	rec, err := s.lookupByID(ctx, req.GetWorkspaceId(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	policy, err := s.store.GetTokenPolicy(ctx, req.GetWorkspaceId())
	if err != nil {
		return nil, err
	}
	return &pb.GetTokenResponse{Token: viewUnder(rec, policy, s.now())}, nil
}

func (s *Server) revealToken(ctx context.Context, req *pb.RevealTokenRequest) (*pb.RevealTokenResponse, error) {
	if !s.reveal {
		return nil, status.Error(codes.FailedPrecondition, "this server keeps only hashes of secrets (--reveal=false): a secret is shown once, when its token is created")
	}
	rec, err := s.lookupByID(ctx, req.GetWorkspaceId(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	if len(rec.GetSealedSecret()) == 0 {
		return nil, status.Error(codes.FailedPrecondition, "this token was created while secrets were kept as hashes only; its secret cannot be shown")
	}
	if view(rec, s.now()).GetState() == pb.TokenState_TOKEN_STATE_REVOKED {
		return nil, status.Error(codes.FailedPrecondition, "the token is revoked; create a new one")
	}
	secret, err := s.box.Open(rec.GetSealedSecret(), []byte(rec.GetToken().GetTokenId()))
	if err != nil {
		return nil, err
	}
	// The reveal is recorded before the secret leaves: no record, no secret.
	if err := s.store.RecordAudit(ctx); err != nil {
		return nil, err
	}
	return &pb.RevealTokenResponse{Secret: string(secret)}, nil
}

func (s *Server) revokeToken(ctx context.Context, req *pb.RevokeTokenRequest) (*pb.RevokeTokenResponse, error) {
	if err := checkTokenPath(req.GetWorkspaceId(), req.GetTokenId()); err != nil {
		return nil, err
	}
	now := s.now()
	rec, err := s.store.RevokeToken(ctx, req.GetWorkspaceId(), req.GetTokenId(), now, revokeReason(ctx))
	if err != nil {
		return nil, err
	}
	views, err := s.viewsIn(ctx, req.GetWorkspaceId(), now, rec)
	if err != nil {
		return nil, err
	}
	return &pb.RevokeTokenResponse{Token: views[0]}, nil
}

func (s *Server) lookupByID(ctx context.Context, workspaceID, tokenID string) (*storagepb.TokenRecord, error) {
	if err := checkTokenPath(workspaceID, tokenID); err != nil {
		return nil, err
	}
	return s.store.GetToken(ctx, workspaceID, tokenID)
}

func checkTokenPath(workspaceID, tokenID string) error {
	if err := checkID("workspace_id", workspaceID); err != nil {
		return err
	}
	if !token.ValidID(tokenID) {
		return invalid("token_id", "is not a token id (26 characters of [0-9a-z])")
	}
	return nil
}

// viewsIn returns the public form of tokens of workspace workspaceID as of
// now under the workspace's token policy, read once (after a write that
// did not hand it back).
func (s *Server) viewsIn(ctx context.Context, workspaceID string, now time.Time, recs ...*storagepb.TokenRecord) ([]*pb.Token, error) {
	p, err := s.store.GetTokenPolicy(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Token, len(recs))
	for i, r := range recs {
		out[i] = viewUnder(r, p, now)
	}
	return out, nil
}

// view returns the public form of a stored token with its state as of now,
// without a workspace policy; viewUnder applies one.
func view(rec *storagepb.TokenRecord, now time.Time) *pb.Token {
	return viewUnder(rec, nil, now)
}

// viewUnder returns the public form of a stored token with its state as of
// now under the workspace token policy p (nil: none).
func viewUnder(rec *storagepb.TokenRecord, p *pb.TokenPolicy, now time.Time) *pb.Token {
	t := new(pb.Token)
	fillView(t, rec.GetToken(), p, now)
	return t
}

// fillView sets t to the public form of stored token st with its state as
// of now under p and the end that applies to it under p. t shares st's timestamps and lists instead of copying
// them: st may be the validation index's shared record, so neither may be
// changed afterwards (responses are only marshalled).
func fillView(t, st *pb.Token, p *pb.TokenPolicy, now time.Time) {
	t.TokenId = st.GetTokenId()
	t.WorkspaceId = st.GetWorkspaceId()
	t.UserId = st.GetUserId()
	t.Description = st.GetDescription()
	t.MaskedKey = st.GetMaskedKey()
	t.CreateTime = st.GetCreateTime()
	t.ExpireTime = st.GetExpireTime()
	t.RevokeTime = st.GetRevokeTime()
	t.ReplacedBy = st.GetReplacedBy()
	t.LastUsedTime = st.GetLastUsedTime()
	t.Operations = st.GetOperations()
	t.Zoos = st.GetZoos()
	t.Disabled = st.GetDisabled()
	t.RevokeReason = st.GetRevokeReason()
	t.Replaces = st.GetReplaces()
	t.FamilyId = st.GetFamilyId()
	t.State = lifecycle.StateUnder(st, p, now)
	t.EffectiveExpireTime = endTime(st, p)
	t.CreatedForSeed = st.GetCreatedForSeed()
}
