package access

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// Store is the storage the decision path reads. Every storage.Backend implements
// it; both methods return an error wrapping storage.ErrNotFound when the
// record is absent.
type Store interface {
	// LookupTokenWithPolicy finds a token by the SHA-256 of its secret and
	// reports whether its user is still a member of its workspace and the
	// token policy of that workspace (nil: none), read together. The
	// record is the caller's own (a new one on every call); the policy is
	// shared and must not be changed.
	LookupTokenWithPolicy(ctx context.Context, secretHash [32]byte) (*storagepb.TokenRecord, bool, *pb.TokenPolicy, error)
	// GetZoo returns a zoo.
	GetZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error)
}

// recordStore is a Store that can decode a token into a record the caller
// owns and reuses (the storage core's LookupTokenInto); ResolveInto and
// Decide use it when the store has it.
type recordStore interface {
	LookupTokenInto(ctx context.Context, secretHash [32]byte, rec *storagepb.TokenRecord) (bool, *pb.TokenPolicy, error)
}

// zooIndex is a Store that can answer GetZoo from memory, with a zoo the
// caller must not change (the storage core's LookupZoo); Decide uses it
// when the store has it.
type zooIndex interface {
	LookupZoo(ctx context.Context, workspaceID, zooID string) (*pb.Zoo, error)
}

// Config configures an Authority. Store is required.
type Config struct {
	Store Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnUse, when not nil, is called once for every successful use of a
	// token: a valid validation, or an allowed decision made with a token.
	// It runs on the request's goroutine and must not block, nor keep the
	// token: a decision's token is reused once the decision is made.
	OnUse func(ctx context.Context, t *pb.Token, at time.Time)
	// Tracer, when not nil, records a span for every decision made inside
	// a recorded span (see trace.go); nil records none.
	Tracer trace.Tracer
}

// Authority makes decisions over a store. It holds no state of its own
// but a pool of records that decisions decode tokens into, and is safe
// for concurrent use.
type Authority struct {
	store  Store
	into   recordStore // store, when it decodes into the caller's record; else nil
	zoos   zooIndex    // store, when it answers zoos from memory; else nil
	now    func() time.Time
	onUse  func(ctx context.Context, t *pb.Token, at time.Time)
	tracer trace.Tracer
	// records are plain token records Decide decodes the presented token
	// into, each back in the pool once its decision is made.
	records sync.Pool
}

// New returns an Authority for cfg.
func New(cfg Config) *Authority {
	a := &Authority{store: cfg.Store, now: cfg.Now, onUse: cfg.OnUse, tracer: cfg.Tracer}
	a.records.New = func() any { return new(storagepb.TokenRecord) }
	a.into, _ = cfg.Store.(recordStore)
	a.zoos, _ = cfg.Store.(zooIndex)
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

// used is the one place where a successful use of a token is known.
func (a *Authority) used(ctx context.Context, t *pb.Token, at time.Time) {
	if a.onUse != nil {
		a.onUse(ctx, t, at)
	}
}
