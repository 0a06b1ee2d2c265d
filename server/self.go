package server

import (
	"context"
	"crypto/sha256"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/reason"
	"tokenauthority/storage"
)

// selfService implements pb.SelfServiceServer, the hub SDK's token protocol.
type selfService struct {
	pb.UnimplementedSelfServiceServer
	s *Server
}

func (x *selfService) GetTokenInfo(ctx context.Context, req *pb.GetTokenInfoRequest) (*pb.GetTokenInfoResponse, error) {
	return handle(ctx, x.s, pb.SelfService_GetTokenInfo_FullMethodName, req, (*Server).getTokenInfo)
}

func (x *selfService) RefreshToken(ctx context.Context, req *pb.RefreshTokenRequest) (*pb.RefreshTokenResponse, error) {
	return handle(ctx, x.s, pb.SelfService_RefreshToken_FullMethodName, req, (*Server).refreshToken)
}

func (x *selfService) PickSeedToken(ctx context.Context, req *pb.PickSeedTokenRequest) (*pb.PickSeedTokenResponse, error) {
	return handle(ctx, x.s, pb.SelfService_PickSeedToken_FullMethodName, req, (*Server).pickSeedToken)
}

// unauthenticatedReason turns a failed verdict into the error the SDK shows.
func unauthenticatedReason(r pb.Reason) error {
	return status.Error(codes.Unauthenticated, reason.Describe(r))
}

// authenticate resolves the token that authenticates a self-service call.
func (s *Server) authenticate(ctx context.Context, secret string) (access.Verdict, error) {
	v, err := s.access.Resolve(ctx, secret)
	if err != nil {
		return access.Verdict{}, err
	}
	if !v.Valid() {
		return access.Verdict{}, unauthenticatedReason(v.Reason)
	}
	return v, nil
}

func (s *Server) getTokenInfo(ctx context.Context, req *pb.GetTokenInfoRequest) (*pb.GetTokenInfoResponse, error) {
	v, err := s.authenticate(ctx, req.GetToken())
	if err != nil {
		return nil, err
	}
	t := v.Token()
	// The end under the workspace policy, so that the SDK refreshes before a
	// policy limit stops the token.
	exp := endTime(t, v.Policy)
	if exp == nil {
		exp = &timestamppb.Timestamp{Seconds: neverExpiresSecs}
	}
	return &pb.GetTokenInfoResponse{
		Description: t.GetDescription(),
		CreatedAt:   t.GetCreateTime(),
		Expiration:  exp,
		User:        t.GetUserId(),
		Space:       t.GetWorkspaceId(),
	}, nil
}

// refreshToken is the SDK's refresh: a roll of the token that
// authenticates the call, with the refresh grace period, through the same
// path as RollToken. A repeat within the refresh reuse interval (an SDK
// retrying after a lost answer) gets the same new token.
func (s *Server) refreshToken(ctx context.Context, req *pb.RefreshTokenRequest) (*pb.RefreshTokenResponse, error) {
	if err := s.limitRefresh(req.GetToken()); err != nil {
		return nil, err
	}
	v, err := s.authenticate(ctx, req.GetToken())
	if err != nil {
		return nil, err
	}
	// The token acts on itself: no credential vouched for the call.
	setAuditActor(ctx, tokenActor(v.Token().GetTokenId()))
	_, secret, err := s.roll(ctx, "", v.Token(), s.grace, s.repeatRefresh)
	if errors.Is(err, lifecycle.ErrReused) {
		return nil, status.Error(codes.FailedPrecondition, "the token was already refreshed, so two parties hold it: every token of its family is now revoked; create a new token")
	}
	if err != nil {
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
	s.notePoll(ctx, req.GetSeed(), hash)
	var secret []byte
	_, err := s.store.PickSeed(ctx, hash, s.now(), func(rec *storagepb.SeedRecord) error {
		var err error
		if secret, err = s.box.Open(rec.GetSealedSecret(), hash[:]); err != nil {
			return err
		}
		// The token id names the pick in the audit log.
		setAuditTarget(ctx, "", rec.GetTokenId())
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, status.Error(codes.NotFound, "no token has been created for this seed yet, or it was already picked, has expired or was revoked")
	}
	if err != nil {
		return nil, err
	}
	return &pb.PickSeedTokenResponse{Token: string(secret)}, nil
}

// tokenActor is the audit actor of a call authenticated by a token itself.
func tokenActor(tokenID string) string { return "token:" + tokenID }
