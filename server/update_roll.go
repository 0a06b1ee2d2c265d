package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// maxScopeZoos caps the zoos a token may be limited to.
const maxScopeZoos = 100

func (t *tokenService) UpdateToken(ctx context.Context, req *pb.UpdateTokenRequest) (*pb.UpdateTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_UpdateToken_FullMethodName, req, (*Server).updateToken)
}

func (t *tokenService) RollToken(ctx context.Context, req *pb.RollTokenRequest) (*pb.RollTokenResponse, error) {
	return handle(ctx, t.s, pb.TokenService_RollToken_FullMethodName, req, (*Server).rollToken)
}

// lifetimeLimits are the lifetime limits for a workspace with token policy p.
func (s *Server) lifetimeLimits(p *pb.TokenPolicy) lifecycle.Limits {
	return lifecycle.Limits{Policy: p, Ceiling: s.maxLife}
}

func (s *Server) rollToken(ctx context.Context, req *pb.RollTokenRequest) (*pb.RollTokenResponse, error) {
	if err := checkTokenPath(req.GetWorkspaceId(), req.GetTokenId()); err != nil {
		return nil, err
	}
	grace, err := lifecycle.Grace(req.GetGrace())
	if err != nil {
		return nil, err
	}
	old, err := s.store.GetToken(ctx, req.GetWorkspaceId(), req.GetTokenId())
	if err != nil {
		return nil, err
	}
	next, secret, err := s.roll(ctx, req.GetWorkspaceId(), old.GetToken(), grace, 0)
	if err != nil {
		return nil, err
	}
	views, err := s.viewsIn(ctx, req.GetWorkspaceId(), s.now(), next)
	if err != nil {
		return nil, err
	}
	return &pb.RollTokenResponse{Token: views[0], Secret: secret}, nil
}

// roll replaces old by a new token with a fresh secret; old keeps working
// for grace. workspaceID, when set, must be old's workspace. repeatWithin
// (the SDK refresh's reuse interval; 0 for RollToken) lets a retry of the
// roll that replaced old get that successor and its secret again. It is the
// one path of RollToken and the SDK's refresh.
func (s *Server) roll(ctx context.Context, workspaceID string, old *pb.Token, grace, repeatWithin time.Duration) (*storagepb.TokenRecord, string, error) {
	now := s.now()
	rec, secret, err := s.newRecord(old, now, time.Time{})
	if err != nil {
		return nil, "", err
	}
	// RollToken's event names the rolled token (its request does); the
	// SDK's refresh names its token only by the secret, so its event names
	// the new token, and its actor the old one. A detected reuse names the
	// reused token and the family it revoked, a repeat the successor it
	// hands out again (storage.RollToken).
	setAuditTargetIfUnset(ctx, old.GetWorkspaceId(), rec.GetToken().GetTokenId())
	r := storage.Roll{
		WorkspaceID:  workspaceID,
		OldID:        old.GetTokenId(),
		Next:         rec,
		Grace:        grace,
		Ceiling:      s.maxLife,
		RepeatWithin: repeatWithin,
	}
	_, next, err := s.store.RollToken(ctx, r)
	if err != nil {
		return nil, "", err
	}
	if r.Repeated(next) {
		if secret, err = s.repeatedSecret(next); err != nil {
			return nil, "", err
		}
	}
	return next, secret, nil
}

// repeatedSecret is the secret of a successor handed out again by a
// repeated refresh, opened from its sealed copy. A server that keeps only
// hashes (--reveal=false) cannot send it again: the retry is refused, the
// family stays live, and the old token keeps working for its grace period.
func (s *Server) repeatedSecret(next *storagepb.TokenRecord) (string, error) {
	if len(next.GetSealedSecret()) == 0 {
		return "", status.Error(codes.FailedPrecondition, "this token was refreshed moments ago, and this server keeps only hashes of secrets, so the new token cannot be sent again: continue with the token that refresh returned (this one keeps working for the refresh grace period)")
	}
	b, err := s.box.Open(next.GetSealedSecret(), []byte(next.GetToken().GetTokenId()))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (s *Server) updateToken(ctx context.Context, req *pb.UpdateTokenRequest) (*pb.UpdateTokenResponse, error) {
	in := req.GetToken()
	if in == nil {
		return nil, invalid("token", "is required")
	}
	if err := checkID("token.workspace_id", in.GetWorkspaceId()); err != nil {
		return nil, err
	}
	if err := checkTokenPath(in.GetWorkspaceId(), in.GetTokenId()); err != nil {
		return nil, invalid("token.token_id", "is not a token id (26 characters of [0-9a-z])")
	}
	paths, err := maskPaths(req.GetUpdateMask().GetPaths(), []string{"description", "expire_time", "disabled", "operations", "zoos"})
	if err != nil {
		return nil, err
	}
	// Fields outside the mask are ignored (AIP-134), so only those in it
	// are checked.
	var exp time.Time
	var ops []pb.Operation
	var zoos []string
	for _, p := range paths {
		switch p {
		case "description":
			err = checkText("token.description", in.GetDescription(), maxDescription)
		case "expire_time":
			exp, err = requestedExpiry("token.expire_time", in.GetExpireTime())
		case "operations":
			ops, _, err = checkScopes("token.", in.GetOperations(), nil)
		case "zoos":
			_, zoos, err = checkScopes("token.", nil, in.GetZoos())
		}
		if err != nil {
			return nil, err
		}
	}
	now := s.now()
	var policy *pb.TokenPolicy
	rec, err := s.store.UpdateToken(ctx, in.GetWorkspaceId(), in.GetTokenId(), now, func(t *pb.Token, p *pb.TokenPolicy) error {
		policy = p
		for _, path := range paths {
			switch path {
			case "description":
				t.Description = in.GetDescription()
			case "disabled":
				t.Disabled = in.GetDisabled()
			case "operations":
				t.Operations = ops
			case "zoos":
				t.Zoos = zoos
			case "expire_time":
				e, err := s.lifetimeLimits(p).Change(t, exp, now)
				var le *lifecycle.LimitError
				if errors.As(err, &le) {
					return invalid("token."+le.Field, "%s", le.Reason)
				}
				if err != nil {
					return err
				}
				t.ExpireTime = nil
				if !e.IsZero() {
					t.ExpireTime = timestamppb.New(e)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &pb.UpdateTokenResponse{Token: viewUnder(rec, policy, now)}, nil
}

// maskPaths checks an AIP-134 update mask against the paths a method may
// change: required, each path known, none twice. The full replacement "*"
// is refused: it would reset every field the request leaves out (a
// workspace's token policy among them), so each field to change is named.
func maskPaths(paths, allowed []string) ([]string, error) {
	names := strings.Join(allowed, ", ")
	if len(paths) == 0 {
		return nil, invalid("update_mask", "is required: name the fields to change, among %s", names)
	}
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		if p == "*" {
			return nil, invalid("update_mask", "\"*\" (replace everything) is not accepted: name the fields to change, among %s", names)
		}
		if !slices.Contains(allowed, p) {
			return nil, invalid("update_mask", "path %q cannot be changed; allowed: %s", p, names)
		}
		if seen[p] {
			return nil, invalid("update_mask", "path %q is named twice", p)
		}
		seen[p] = true
	}
	return paths, nil
}

// checkScopes checks a token's scopes: operations among download and cloud
// inference, zoos named `workspace/zoo`, none twice, at most maxScopeZoos
// zoos. prefix is prepended to the field names in errors. Zoos need not
// exist: a scope grants nothing the workspace does not, so naming a missing
// or foreign zoo only narrows.
func checkScopes(prefix string, ops []pb.Operation, zoos []string) ([]pb.Operation, []string, error) {
	for i, op := range ops {
		if op != pb.Operation_OPERATION_DOWNLOAD && op != pb.Operation_OPERATION_CLOUD_INFERENCE {
			return nil, nil, invalid(prefix+"operations", "must hold only OPERATION_DOWNLOAD and OPERATION_CLOUD_INFERENCE")
		}
		if slices.Contains(ops[:i], op) {
			return nil, nil, invalid(prefix+"operations", "names %v twice", op)
		}
	}
	if len(zoos) > maxScopeZoos {
		return nil, nil, invalid(prefix+"zoos", "must name at most %d zoos", maxScopeZoos)
	}
	for i, z := range zoos {
		if _, _, err := parseZoo(z); err != nil {
			return nil, nil, invalid(prefix+"zoos", "%q %s", z, access.ZooRule)
		}
		if slices.Contains(zoos[:i], z) {
			return nil, nil, invalid(prefix+"zoos", "names %q twice", z)
		}
	}
	return slices.Clone(ops), slices.Clone(zoos), nil
}

// endTime is when t stops by expiry under policy p (lifecycle.End), as a
// timestamp: t's own expire_time itself when that is the end (shared, not
// copied, as fillView shares), nil when never.
func endTime(t *pb.Token, p *pb.TokenPolicy) *timestamppb.Timestamp {
	end := lifecycle.End(t, p)
	if end.IsZero() {
		return nil
	}
	if et := t.GetExpireTime(); et != nil && et.AsTime().Equal(end) {
		return et
	}
	return timestamppb.New(end)
}
