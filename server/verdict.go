package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/metrics"
	"tokenauthority/policy"
	"tokenauthority/storage"
	"tokenauthority/token"
)

// verdict is what the authority knows of a presented secret.
type verdict struct {
	reason pb.Reason
	// rec is the matching token; nil when the secret matched none.
	rec *storagepb.TokenRecord
	// policy is the token policy of rec's workspace; nil when none.
	policy *pb.TokenPolicy
}

func (v verdict) valid() bool { return v.reason == pb.Reason_REASON_VALID }

// resolve finds the token of a presented secret and says whether it is valid
// at now. A secret of the wrong shape or checksum is refused before the store
// is consulted. Only read transactions are used.
func (s *Server) resolve(ctx context.Context, secret string, now time.Time) (verdict, error) {
	if token.Check(secret) != nil {
		return verdict{reason: pb.Reason_REASON_MALFORMED}, nil
	}
	hash := token.Hash(secret)
	rec, member, tokenPolicy, err := s.store.LookupTokenWithPolicy(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return verdict{reason: pb.Reason_REASON_UNKNOWN}, nil
	}
	if err != nil {
		return verdict{}, err
	}
	// The index is keyed by the hash, so a hit already matched; comparing the
	// stored hash again guards against a corrupted index entry.
	if subtle.ConstantTimeCompare(rec.GetSecretHash(), hash[:]) != 1 {
		return verdict{reason: pb.Reason_REASON_UNKNOWN}, nil
	}
	return verdict{rec: rec, policy: tokenPolicy, reason: lifecycle.Reason(rec.GetToken(), member, tokenPolicy, now)}, nil
}

func (s *Server) validateToken(ctx context.Context, req *pb.ValidateTokenRequest) (*pb.ValidateTokenResponse, error) {
	if req.GetSecret() == "" {
		return nil, invalid("secret", "is required")
	}
	now := s.now()
	v, err := s.resolve(ctx, req.GetSecret(), now)
	if err != nil {
		return nil, err
	}
	s.metrics.ObserveDecision(metrics.KindValidate, v.reason)
	resp := &pb.ValidateTokenResponse{Valid: v.valid(), Reason: v.reason}
	if v.rec != nil {
		resp.Token = viewUnder(v.rec, v.policy, now)
	}
	return resp, nil
}

func (s *Server) checkAccess(ctx context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	workspaceID, zooID, err := parseZoo(req.GetZoo())
	if err != nil {
		return nil, err
	}
	op := req.GetOperation()
	if op != pb.Operation_OPERATION_DOWNLOAD && op != pb.Operation_OPERATION_CLOUD_INFERENCE {
		return nil, invalid("operation", "must be OPERATION_DOWNLOAD or OPERATION_CLOUD_INFERENCE")
	}
	resp, err := s.decide(ctx, req.GetSecret(), workspaceID, zooID, op)
	if err != nil {
		return nil, err
	}
	s.metrics.ObserveDecision(metrics.KindAccess, resp.GetReason())
	return resp, nil
}

// decide answers whether secret (empty: none presented) may perform op on the
// zoo workspaceID/zooID. A presented secret that is not valid is denied with
// its reason even where no secret would have been allowed.
func (s *Server) decide(ctx context.Context, secret, workspaceID, zooID string, op pb.Operation) (*pb.CheckAccessResponse, error) {
	caller := policy.Caller{Anonymous: true}
	var tok *pb.Token
	resp := &pb.CheckAccessResponse{}
	if secret != "" {
		v, err := s.resolve(ctx, secret, s.now())
		if err != nil {
			return nil, err
		}
		if !v.valid() {
			resp.Reason = v.reason
			return resp, nil
		}
		t := v.rec.GetToken()
		tok = t
		caller = policy.Caller{WorkspaceID: t.GetWorkspaceId()}
		resp.WorkspaceId, resp.TokenId, resp.UserId, resp.ExpireTime = t.GetWorkspaceId(), t.GetTokenId(), t.GetUserId(), endTime(t, v.policy)
	}
	zoo, err := s.store.GetZoo(ctx, workspaceID, zooID)
	if errors.Is(err, storage.ErrNotFound) {
		zoo, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := policy.Decide(zoo, op, caller)
	if secret != "" {
		d = lifecycle.Narrow(d, tok, workspaceID, zooID, op)
	}
	resp.Allowed, resp.Reason = d.Allowed, d.Reason
	return resp, nil
}

// parseZoo splits "workspace/zoo".
func parseZoo(zoo string) (workspaceID, zooID string, err error) {
	workspaceID, zooID, ok := strings.Cut(zoo, "/")
	if !ok || checkID("zoo", workspaceID) != nil || checkID("zoo", zooID) != nil {
		return "", "", invalid("zoo", "must be workspace/zoo, each part matching [a-z0-9][a-z0-9-]{0,62}")
	}
	return workspaceID, zooID, nil
}
