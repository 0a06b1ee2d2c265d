package core

import (
	"sync"
	"sync/atomic"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// decided is the split revocations decided but not yet finished
// (cleanup.go): a token a marker names is revoked for validation, rolls,
// GetToken and lists as soon as the marker reaches this replica's index,
// not when its chunk commits (or, after a crash, when FinishStale gets to
// it).
type decided struct {
	mu      sync.Mutex
	markers map[string]decision
	// byToken is the earliest decision naming each token; nil when no
	// marker is pending, so validation pays one atomic load.
	byToken atomic.Pointer[map[string]decision]
}

// note applies a revocation marker's put or delete; a put that does not
// decode is left out (finishOne reports it).
func (d *decided) note(key string, value []byte, del bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.markers == nil {
		d.markers = map[string]decision{}
	}
	if dec, err := decodeDecision(value); err == nil && !del {
		d.markers[key] = dec
	} else {
		delete(d.markers, key)
	}
	d.rebuild()
}

// reset replaces every marker, for a reload of the index.
func (d *decided) reset(markers map[string]decision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.markers = markers
	d.rebuild()
}

func (d *decided) rebuild() {
	if len(d.markers) == 0 {
		d.byToken.Store(nil)
		return
	}
	m := map[string]decision{}
	for _, dec := range d.markers {
		for _, id := range dec.ids {
			if prev, ok := m[id]; !ok || dec.at.Before(prev.at) {
				m[id] = decision{at: dec.at, reason: dec.reason}
			}
		}
	}
	d.byToken.Store(&m)
}

// overlay revokes t, which the caller owns, when a pending decision names
// it.
func (d *decided) overlay(t *pb.Token) {
	if m := d.byToken.Load(); m != nil {
		if dec, ok := (*m)[t.GetTokenId()]; ok {
			lifecycle.Revoke(t, dec.at, dec.reason)
		}
	}
}
