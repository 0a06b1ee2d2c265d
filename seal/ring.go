package seal

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// A value sealed by a Ring under a key other than key 0 starts with a
// header: the 4 magic bytes, then the key id as a big-endian uint32. The
// header is also authenticated (it is prepended to the additional data), so
// it cannot be changed without the value failing to open.
//
// Key 0 is the original single master key. Values sealed under it carry no
// header, exactly as a Box seals them, so a store that never rotates stays
// readable by builds without key rings, and values sealed before rings
// existed open as key 0.
const headerLen = 8

var magic = [4]byte{'t', 'k', 'r', 1}

// Ring seals under its newest key (the highest id) and opens values sealed
// under any of its keys. It is safe for concurrent use.
type Ring struct {
	boxes  map[uint32]*Box
	newest uint32
}

// NewRing returns a Ring of keys, indexed by key id. Each key must be
// KeySize bytes; at least one is required (ErrEmptyRing).
func NewRing(keys map[uint32][]byte) (*Ring, error) {
	if len(keys) == 0 {
		return nil, ErrEmptyRing
	}
	r := &Ring{boxes: make(map[uint32]*Box, len(keys))}
	for id, key := range keys {
		b, err := New(key)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", id, err)
		}
		r.boxes[id] = b
		r.newest = max(r.newest, id)
	}
	return r, nil
}

// Newest is the id of the key that Seal uses.
func (r *Ring) Newest() uint32 { return r.newest }

// IDs returns the ring's key ids in increasing order.
func (r *Ring) IDs() []uint32 {
	ids := make([]uint32, 0, len(r.boxes))
	for id := range r.boxes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Box returns the Box of key id, or nil when the ring has no such key. A
// Box seals without a header: use it for values that name their key
// elsewhere (the store's key check values), never for secrets.
func (r *Ring) Box(id uint32) *Box { return r.boxes[id] }

// Seal seals plaintext under the newest key, bound to aad, with the key id
// in front (none for key 0).
func (r *Ring) Seal(plaintext, aad []byte) ([]byte, error) {
	if r.newest == 0 {
		return r.boxes[0].Seal(plaintext, aad)
	}
	h := header(r.newest)
	out := make([]byte, 0, headerLen+len(plaintext)+Overhead)
	out = append(out, h[:]...)
	sealed, err := r.boxes[r.newest].Seal(plaintext, headerAAD(r.newest, aad))
	if err != nil {
		return nil, err
	}
	return append(out, sealed...), nil
}

// Open opens a value sealed by Seal under any key of the ring (or by a
// Box under key 0). A value naming a key the ring lacks returns an error
// wrapping ErrUnknownKey and naming the id; anything else that does not
// authenticate returns ErrOpen.
func (r *Ring) Open(sealed, aad []byte) ([]byte, error) {
	plaintext, _, err := r.open(sealed, aad)
	return plaintext, err
}

// KeyOf returns the id of the key that opens sealed, with Open's errors.
// It opens the value rather than trusting its header, so a count of the
// values under a key (before retiring it) cannot be fooled.
func (r *Ring) KeyOf(sealed, aad []byte) (uint32, error) {
	_, id, err := r.open(sealed, aad)
	return id, err
}

// Reseal returns sealed re-sealed under the newest key, or nil when it is
// already sealed under it. It fails like Open.
func (r *Ring) Reseal(sealed, aad []byte) ([]byte, error) {
	plaintext, id, err := r.open(sealed, aad)
	if err != nil {
		return nil, err
	}
	if id == r.newest {
		return nil, nil
	}
	return r.Seal(plaintext, aad)
}

func (r *Ring) open(sealed, aad []byte) ([]byte, uint32, error) {
	id, ok := parseHeader(sealed)
	if ok {
		if b := r.boxes[id]; b != nil {
			if p, err := b.Open(sealed[headerLen:], headerAAD(id, aad)); err == nil {
				return p, id, nil
			}
		}
	}
	// No header, or one that did not open: a key 0 value, whose random
	// nonce may happen to start like a header (once in 2^32 values).
	if b := r.boxes[0]; b != nil {
		if p, err := b.Open(sealed, aad); err == nil {
			return p, 0, nil
		}
	}
	switch {
	case ok && r.boxes[id] == nil:
		return nil, 0, fmt.Errorf("%w: the value names key %d", ErrUnknownKey, id)
	case !ok && r.boxes[0] == nil:
		return nil, 0, fmt.Errorf("%w: the value has no key id, so it was sealed under key 0 (the original master key)", ErrUnknownKey)
	}
	return nil, 0, ErrOpen
}

// headerAAD is the additional data of a value with a header: the header,
// then the caller's aad.
func headerAAD(id uint32, aad []byte) []byte {
	h := header(id)
	return append(h[:], aad...)
}

func header(id uint32) [headerLen]byte {
	var h [headerLen]byte
	copy(h[:], magic[:])
	binary.BigEndian.PutUint32(h[len(magic):], id)
	return h
}

// parseHeader returns the key id of a value that starts with a header and
// is long enough to hold a sealed value after it. Id 0 never has a header.
func parseHeader(sealed []byte) (uint32, bool) {
	if len(sealed) < headerLen+Overhead || [4]byte(sealed[:4]) != magic {
		return 0, false
	}
	id := binary.BigEndian.Uint32(sealed[len(magic):headerLen])
	return id, id != 0
}
