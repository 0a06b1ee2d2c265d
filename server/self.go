package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// selfService implements pb.SelfServiceServer, the hub SDK's token protocol.
type selfService struct {
	pb.UnimplementedSelfServiceServer
	s *Server
}

func (x *selfService) GetTokenInfo(ctx context.Context, req *pb.GetTokenInfoRequest) (*pb.GetTokenInfoResponse, error) {
	return handle(ctx, x.s, pb.SelfService_GetTokenInfo_FullMethodName, req, x.s.getTokenInfo)
}

func (x *selfService) RefreshToken(ctx context.Context, req *pb.RefreshTokenRequest) (*pb.RefreshTokenResponse, error) {
	return handle(ctx, x.s, pb.SelfService_RefreshToken_FullMethodName, req, x.s.refreshToken)
}

func (x *selfService) PickSeedToken(ctx context.Context, req *pb.PickSeedTokenRequest) (*pb.PickSeedTokenResponse, error) {
	return handle(ctx, x.s, pb.SelfService_PickSeedToken_FullMethodName, req, x.s.pickSeedToken)
}

// neverExpires is how the SDK spells "no expiry".
var neverExpires = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)

// unauthenticatedReason turns a failed verdict into the error the SDK shows.
func unauthenticatedReason(r pb.Reason) error {
	msg := "the token is not valid"
	switch r {
	case pb.Reason_REASON_MALFORMED:
		msg = "the token is malformed: it is not a token of this hub (wrong prefix, length or checksum)"
	case pb.Reason_REASON_UNKNOWN:
		msg = "the token is unknown"
	case pb.Reason_REASON_EXPIRED:
		msg = "the token has expired"
	case pb.Reason_REASON_REVOKED:
		msg = "the token was revoked"
	case pb.Reason_REASON_NOT_MEMBER:
		msg = "the token's user is no longer a member of its workspace"
	}
	return status.Error(codes.Unauthenticated, msg)
}

// authenticate resolves the token that authenticates a self-service call.
func (s *Server) authenticate(ctx context.Context, secret string, now time.Time) (verdict, error) {
	v, err := s.resolve(ctx, secret, now)
	if err != nil {
		return verdict{}, err
	}
	if !v.valid() {
		return verdict{}, unauthenticatedReason(v.reason)
	}
	return v, nil
}

func (s *Server) getTokenInfo(ctx context.Context, req *pb.GetTokenInfoRequest) (*pb.GetTokenInfoResponse, error) {
	v, err := s.authenticate(ctx, req.GetToken(), s.now())
	if err != nil {
		return nil, err
	}
	t := v.rec.GetToken()
	exp := t.GetExpireTime()
	if exp == nil {
		exp = timestamppb.New(neverExpires)
	}
	return &pb.GetTokenInfoResponse{
		Description: t.GetDescription(),
		CreatedAt:   t.GetCreateTime(),
		Expiration:  exp,
		User:        t.GetUserId(),
		Space:       t.GetWorkspaceId(),
	}, nil
}

// refreshToken replaces a valid token by a new one with the same lifetime
// (capped by the maximum lifetime); the old one stops working after the
// grace period.
func (s *Server) refreshToken(ctx context.Context, req *pb.RefreshTokenRequest) (*pb.RefreshTokenResponse, error) {
	now := s.now()
	v, err := s.authenticate(ctx, req.GetToken(), now)
	if err != nil {
		return nil, err
	}
	old := v.rec.GetToken()
	var exp time.Time
	if old.GetExpireTime() != nil {
		exp = now.Add(old.GetExpireTime().AsTime().Sub(old.GetCreateTime().AsTime()))
	}
	if s.maxLife > 0 && (exp.IsZero() || exp.Sub(now) > s.maxLife) {
		exp = now.Add(s.maxLife)
	}
	next, secret, err := s.newRecord(old, now, exp)
	if err != nil {
		return nil, err
	}
	setAuditActor(ctx, tokenActor(old.GetTokenId()))
	setAuditTarget(ctx, old.GetWorkspaceId(), next.GetToken().GetTokenId())
	if err := s.store.ReplaceToken(ctx, old.GetTokenId(), next, now.Add(s.grace)); err != nil {
		if errors.Is(err, storage.ErrReplaced) {
			return nil, status.Error(codes.FailedPrecondition, "the token was already refreshed; use the token the refresh returned")
		}
		return nil, err
	}
	return &pb.RefreshTokenResponse{Value: secret}, nil
}

func (s *Server) pickSeedToken(ctx context.Context, req *pb.PickSeedTokenRequest) (*pb.PickSeedTokenResponse, error) {
	if req.GetSeed() == "" {
		return nil, invalid("seed", "is required")
	}
	if len(req.GetSeed()) > maxSeedLen {
		return nil, invalid("seed", "must be at most %d characters", maxSeedLen)
	}
	hash := sha256.Sum256([]byte(req.GetSeed()))
	// The token id names the pick in the audit log; the read also answers
	// the SDK's polling misses off the write path.
	id, err := s.store.SeedToken(ctx, hash)
	if err != nil {
		return nil, seedError(err)
	}
	setAuditTarget(ctx, "", id)
	rec, err := s.store.PickSeed(ctx, hash, s.now())
	if err != nil {
		return nil, seedError(err)
	}
	secret, err := s.box.Open(rec.GetSealedSecret(), hash[:])
	if err != nil {
		return nil, err
	}
	return &pb.PickSeedTokenResponse{Token: string(secret)}, nil
}

// seedError explains a missing seed in the SDK's terms.
func seedError(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return status.Error(codes.NotFound, "no token has been created for this seed yet")
	}
	return err
}

// tokenActor is the audit actor of a call authenticated by a token itself.
func tokenActor(tokenID string) string { return "token:" + tokenID }
