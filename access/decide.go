package access

import (
	"context"
	"errors"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/policy"
	"tokenauthority/storage"
)

// Request asks whether a secret may perform an operation on a zoo.
type Request struct {
	// Secret is the presented token; empty when none was presented.
	Secret      string
	WorkspaceID string
	ZooID       string
	Operation   pb.Operation
}

// Decision is the answer to a Request: a plain value that every transport
// renders in its own way.
type Decision struct {
	Allowed bool
	// Reason says why, for allowed and denied decisions alike.
	Reason pb.Reason
	// The identity of the presented token, set whenever the token is valid
	// (also when the zoo denies it). Empty for an anonymous request and for
	// an invalid token.
	WorkspaceID, TokenID, UserID string
	// ExpireTime is when the valid token stops by expiry, its own or a
	// limit of its workspace's token policy (lifecycle.End); zero when it
	// never does.
	ExpireTime time.Time
	// Token is the valid token, nil otherwise: the caller's own.
	Token *pb.Token
}

// Anonymous reports whether the decision was made without a valid token.
func (d Decision) Anonymous() bool { return d.Token == nil }

// Decide answers req. A presented secret that is not valid is denied with
// its reason even where no secret would have been allowed. An error is a
// storage failure, never a denial.
func (a *Authority) Decide(ctx context.Context, req Request) (Decision, error) {
	return a.DecideInto(ctx, req, nil)
}

// DecideInto is Decide decoding the presented token into rec, a record the
// caller owns and may reuse, as ResolveInto does: the decision's Token is
// then rec's, until the caller reuses rec.
func (a *Authority) DecideInto(ctx context.Context, req Request, rec *storagepb.TokenRecord) (Decision, error) {
	if a.traced(ctx) {
		return a.decideTraced(ctx, req, rec)
	}
	return a.decide(ctx, req, rec)
}

// decide is DecideInto without a span.
func (a *Authority) decide(ctx context.Context, req Request, rec *storagepb.TokenRecord) (Decision, error) {
	now := a.now()
	var d Decision
	if req.Secret != "" {
		v, err := a.resolve(ctx, req.Secret, now, rec)
		if err != nil {
			return Decision{}, err
		}
		if !v.Valid() {
			return Decision{Reason: v.Reason}, nil
		}
		t := v.Token()
		d = Decision{WorkspaceID: t.GetWorkspaceId(), TokenID: t.GetTokenId(), UserID: t.GetUserId(), Token: t, ExpireTime: v.End()}
	}
	zoo, err := a.zoo(ctx, req.WorkspaceID, req.ZooID)
	if err != nil {
		return Decision{}, err
	}
	d.Allowed, d.Reason = grant(zoo, req.WorkspaceID, req.ZooID, req.Operation, d.Token)
	if d.Allowed && d.Token != nil {
		a.used(ctx, d.Token, now)
	}
	return d, nil
}

// zoo reads a zoo; nil when it does not exist or its name cannot exist.
func (a *Authority) zoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error) {
	if !ValidID(workspaceID) || !ValidID(zooID) {
		return nil, nil
	}
	var zoo *pb.Zoo
	var err error
	if a.zoos != nil {
		zoo, err = a.zoos.LookupZoo(ctx, workspaceID, zooID)
	} else {
		zoo, err = a.store.GetZoo(ctx, workspaceID, zooID)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return zoo, err
}

// grant is the one place where a zoo and an operation are decided for a
// caller: t is the valid token, or nil for an anonymous caller. The access
// table decides what the caller's workspace may reach; a token's scopes
// (lifecycle.Narrow) can then only take away. workspaceID/zooID name the
// zoo asked for, also when it does not exist.
func grant(zoo *pb.Zoo, workspaceID, zooID string, op pb.Operation, t *pb.Token) (bool, pb.Reason) {
	caller := policy.Caller{Anonymous: true}
	if t != nil {
		caller = policy.Caller{WorkspaceID: t.GetWorkspaceId()}
	}
	pd := policy.Decide(zoo, op, caller)
	if t != nil {
		pd = lifecycle.Narrow(pd, t, workspaceID, zooID, op)
	}
	return pd.Allowed, pd.Reason
}
