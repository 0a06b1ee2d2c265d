package storage

import (
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
)

// Roll asks RollToken to replace one token by a new one.
type Roll struct {
	// WorkspaceID, when set, must be the old token's (else not found);
	// the SDK's refresh leaves it empty.
	WorkspaceID string
	// OldID is the token to replace.
	OldID string
	// Next is the new token's id, masked key, create_time (of the roll),
	// secret hash and sealed secret; the rest comes from the old token.
	Next *storagepb.TokenRecord
	// Grace is how long the old secret keeps working; 0 stops it now.
	Grace time.Duration
	// Ceiling is the server's maximum token lifetime; 0 means none.
	Ceiling time.Duration
	// RepeatWithin is the SDK refresh's reuse interval (0: none): rolling
	// a token replaced within it by a live successor is a retry
	// (lifecycle.RepeatRefresh) that writes nothing and returns that one.
	RepeatWithin time.Duration
}

// Repeated reports whether RollToken's next is an existing successor
// handed out again rather than r.Next.
func (r Roll) Repeated(next *storagepb.TokenRecord) bool {
	return next.GetToken().GetTokenId() != r.Next.GetToken().GetTokenId()
}

// SeedPark is a seed to park with a new token, for one pick-up by the SDK.
type SeedPark struct {
	// Hash is the SHA-256 of the seed string; the seed is never stored.
	Hash [32]byte
	// Record is stored under Hash.
	Record *storagepb.SeedRecord
}

// Sealed is one secret sealed under the master key, with its additional
// data.
type Sealed struct {
	Value []byte
	AAD   []byte
}
