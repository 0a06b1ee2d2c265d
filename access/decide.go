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
	// withToken: the decision was made with a valid token. The token
	// itself is not kept: it was decoded into one of the authority's
	// records, back in its pool once the decision is made.
	withToken bool
}

// Anonymous reports whether the decision was made without a valid token.
func (d Decision) Anonymous() bool { return !d.withToken }

// Decide answers req. A presented secret that is not valid is denied with
// its reason even where no secret would have been allowed. An error is a
// storage failure, never a denial.
// The presented token is decoded into a record of the authority's pool
// (with the bbolt store), so that a decision allocates nothing.
func (a *Authority) Decide(ctx context.Context, req Request) (Decision, error) {
	if a.traced(ctx) {
		return a.decideTraced(ctx, req)
	}
	return a.decide(ctx, req)
}

// decide is Decide without a span.
func (a *Authority) decide(ctx context.Context, req Request) (Decision, error) {
	now := a.now()
	var d Decision
	var t *pb.Token // the valid token, nil otherwise
	if req.Secret != "" {
		rec := a.records.Get().(*storagepb.TokenRecord)
		// Nothing of the record outlives the decision: the decision copies
		// the token's ids (strings, which reusing the record leaves as
		// they are) and OnUse must not keep the token.
		defer a.records.Put(rec)
		v, err := a.resolve(ctx, req.Secret, now, rec)
		if err != nil {
			return Decision{}, err
		}
		if !v.Valid() {
			return Decision{Reason: v.Reason}, nil
		}
		t = v.Token()
		d = Decision{WorkspaceID: t.GetWorkspaceId(), TokenID: t.GetTokenId(), UserID: t.GetUserId(), ExpireTime: v.End(), withToken: true}
	}
	zoo, err := a.zoo(ctx, req.WorkspaceID, req.ZooID)
	if err != nil {
		return Decision{}, err
	}
	d.Allowed, d.Reason = grant(zoo, req.WorkspaceID, req.ZooID, req.Operation, t)
	if d.Allowed && t != nil {
		a.used(ctx, t, now)
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
