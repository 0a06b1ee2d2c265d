package seal_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"tokenauthority/seal"
)

func newRing(t *testing.T, keys map[uint32][]byte) *seal.Ring {
	t.Helper()
	r, err := seal.NewRing(keys)
	if err != nil {
		t.Fatalf("NewRing() error = %v", err)
	}
	return r
}

// ringHeader is the documented prefix of a value sealed under key id > 0,
// written out here independently of the package.
func ringHeader(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{'t', 'k', 'r', 1}, id)
}

// TestRingOpensEveryGeneration: values sealed under each generation of a
// rotated ring, and by a plain Box before rings existed, all open under the
// full ring, which names the key of each.
func TestRingOpensEveryGeneration(t *testing.T) {
	t.Parallel()
	k0, k1, k2 := newKey(t), newKey(t), newKey(t)
	full := newRing(t, map[uint32][]byte{0: k0, 1: k1, 2: k2})
	aad := []byte("01aryz6s41abcdefghjkmnpqrs")
	tests := []struct {
		name       string
		seal       func([]byte, []byte) ([]byte, error)
		wantID     uint32
		wantHeader bool
	}{
		{name: "box before rings", seal: newBox(t, k0).Seal, wantID: 0},
		{name: "ring of key 0 only", seal: newRing(t, map[uint32][]byte{0: k0}).Seal, wantID: 0},
		{name: "ring 0,1", seal: newRing(t, map[uint32][]byte{0: k0, 1: k1}).Seal, wantID: 1, wantHeader: true},
		{name: "ring 1 only", seal: newRing(t, map[uint32][]byte{1: k1}).Seal, wantID: 1, wantHeader: true},
		{name: "ring 0,1,2", seal: full.Seal, wantID: 2, wantHeader: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plaintext := []byte("tka_secret_" + tt.name)
			sealed, err := tt.seal(plaintext, aad)
			if err != nil {
				t.Fatalf("Seal() error = %v", err)
			}
			if got := bytes.HasPrefix(sealed, ringHeader(tt.wantID)); got != tt.wantHeader {
				t.Errorf("sealed value starts with the header of key %d = %v, want %v", tt.wantID, got, tt.wantHeader)
			}
			got, err := full.Open(sealed, aad)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Errorf("Open() = %q, want %q", got, plaintext)
			}
			id, err := full.KeyOf(sealed, aad)
			if err != nil || id != tt.wantID {
				t.Errorf("KeyOf() = %d, %v; want %d", id, err, tt.wantID)
			}
		})
	}
}

// TestRingKey0KeepsBoxFormat: a ring whose newest key is 0 seals exactly
// as a Box does, so a store that never rotates stays readable by a plain
// Box.
func TestRingKey0KeepsBoxFormat(t *testing.T) {
	t.Parallel()
	k0 := newKey(t)
	sealed, err := newRing(t, map[uint32][]byte{0: k0}).Seal([]byte("secret"), []byte("id"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(sealed), len("secret")+seal.Overhead; got != want {
		t.Errorf("len(Seal()) = %d, want %d", got, want)
	}
	got, err := newBox(t, k0).Open(sealed, []byte("id"))
	if err != nil || string(got) != "secret" {
		t.Errorf("Box.Open() = %q, %v; want the secret", got, err)
	}
}

func TestRingUnknownKey(t *testing.T) {
	t.Parallel()
	k0, k1, k2 := newKey(t), newKey(t), newKey(t)
	aad := []byte("id")
	under2, err := newRing(t, map[uint32][]byte{1: k1, 2: k2}).Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	under0, err := newBox(t, k0).Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ring     *seal.Ring
		sealed   []byte
		wantText string
	}{
		{name: "retired key 2", ring: newRing(t, map[uint32][]byte{0: k0, 1: k1}), sealed: under2, wantText: "key 2"},
		{name: "retired key 2, no key 0", ring: newRing(t, map[uint32][]byte{1: k1}), sealed: under2, wantText: "key 2"},
		{name: "retired key 0", ring: newRing(t, map[uint32][]byte{1: k1, 2: k2}), sealed: under0, wantText: "key 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.ring.Open(tt.sealed, aad)
			if !errors.Is(err, seal.ErrUnknownKey) {
				t.Fatalf("Open() error = %v, want ErrUnknownKey", err)
			}
			if got != nil {
				t.Errorf("Open() = %q, want nil", got)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Open() error = %q, want it to name %q", err, tt.wantText)
			}
		})
	}
}

// TestRingRejectsTampering: no single-bit change anywhere in a value sealed
// under a ring key, header included, still opens; nor does the value moved
// under another key's header, nor with its header stripped.
func TestRingRejectsTampering(t *testing.T) {
	t.Parallel()
	k0, k1, k2 := newKey(t), newKey(t), newKey(t)
	ring := newRing(t, map[uint32][]byte{0: k0, 1: k1, 2: k2})
	aad := []byte("01aryz6s41abcdefghjkmnpqrs")
	sealed, err := ring.Seal([]byte("tka_secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for bit := range 8 {
			c := bytes.Clone(sealed)
			c[i] ^= 1 << bit
			if got, err := ring.Open(c, aad); err == nil || got != nil {
				t.Fatalf("Open() of the value with byte %d bit %d flipped = %q, %v; want an error", i, bit, got, err)
			}
		}
	}
	relabeled := append(ringHeader(1), sealed[8:]...)
	stripped := sealed[8:]
	for name, v := range map[string][]byte{"relabeled as key 1": relabeled, "header stripped": stripped, "wrong aad": sealed} {
		a := aad
		if name == "wrong aad" {
			a = []byte("01aryz6s41abcdefghjkmnpqrt")
		}
		if _, err := ring.Open(v, a); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("Open(%s) error = %v, want ErrOpen", name, err)
		}
	}
}

// TestRingLegacyValueLookingLikeHeader: a value sealed by a Box before
// rings existed has a random nonce, which once in 2^32 begins with the
// header magic; it must still open as key 0. The value is built with the
// standard library's GCM and a chosen nonce, which is what Box produces.
func TestRingLegacyValueLookingLikeHeader(t *testing.T) {
	t.Parallel()
	k0, k1 := newKey(t), newKey(t)
	block, err := aes.NewCipher(k0)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint32{1, 7} {
		nonce := append(ringHeader(id), 0, 0, 0, 0)
		rand.Read(nonce[8:])
		legacy := gcm.Seal(bytes.Clone(nonce), nonce, []byte("old secret"), []byte("id"))
		if got, err := newBox(t, k0).Open(legacy, []byte("id")); err != nil || string(got) != "old secret" {
			t.Fatalf("the hand-made value does not open under a Box: %q, %v", got, err)
		}
		ring := newRing(t, map[uint32][]byte{0: k0, 1: k1})
		got, err := ring.Open(legacy, []byte("id"))
		if err != nil || string(got) != "old secret" {
			t.Errorf("Ring.Open() of a key 0 value starting like key %d's header = %q, %v; want the secret", id, got, err)
		}
		if kid, err := ring.KeyOf(legacy, []byte("id")); err != nil || kid != 0 {
			t.Errorf("KeyOf() = %d, %v; want 0", kid, err)
		}
	}
}

func TestRingReseal(t *testing.T) {
	t.Parallel()
	k0, k1 := newKey(t), newKey(t)
	ring := newRing(t, map[uint32][]byte{0: k0, 1: k1})
	aad := []byte("id")
	old, err := newBox(t, k0).Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	resealed, err := ring.Reseal(old, aad)
	if err != nil || resealed == nil {
		t.Fatalf("Reseal(key 0 value) = %v, %v; want a new value", resealed, err)
	}
	if id, err := ring.KeyOf(resealed, aad); err != nil || id != 1 {
		t.Errorf("KeyOf(resealed) = %d, %v; want 1", id, err)
	}
	if got, err := newRing(t, map[uint32][]byte{1: k1}).Open(resealed, aad); err != nil || string(got) != "secret" {
		t.Errorf("Open(resealed) without key 0 = %q, %v; want the secret", got, err)
	}
	again, err := ring.Reseal(resealed, aad)
	if err != nil || again != nil {
		t.Errorf("Reseal(value under the newest key) = %v, %v; want nil, nil", again, err)
	}
	if _, err := ring.Reseal(old, []byte("other")); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("Reseal(wrong aad) error = %v, want ErrOpen", err)
	}
}

func TestNewRingRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys map[uint32][]byte
		want error
	}{
		{name: "nil", keys: nil, want: seal.ErrEmptyRing},
		{name: "empty", keys: map[uint32][]byte{}, want: seal.ErrEmptyRing},
		{name: "short key", keys: map[uint32][]byte{0: newKey(t), 3: make([]byte, 16)}, want: seal.ErrKeySize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := seal.NewRing(tt.keys); !errors.Is(err, tt.want) {
				t.Errorf("NewRing() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRingIDs(t *testing.T) {
	t.Parallel()
	r := newRing(t, map[uint32][]byte{7: newKey(t), 0: newKey(t), 3: newKey(t)})
	if got, want := r.IDs(), []uint32{0, 3, 7}; !slices.Equal(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	if got := r.Newest(); got != 7 {
		t.Errorf("Newest() = %d, want 7", got)
	}
	if r.Box(3) == nil || r.Box(4) != nil {
		t.Error("Box() does not match the ring's ids")
	}
}

// BenchmarkRingOpen compares opening with a Ring, under key 0 (no header)
// and under the newest key (header), against a Box: the baseline.
func BenchmarkRingOpen(b *testing.B) {
	k0, k1 := newKey(b), newKey(b)
	box := newBox(b, k0)
	ring, err := seal.NewRing(map[uint32][]byte{0: k0, 1: k1})
	if err != nil {
		b.Fatal(err)
	}
	secret := []byte("tka_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ1XsZEv")
	aad := []byte("01aryz6s41abcdefghjkmnpqrs")
	under0, err := box.Seal(secret, aad)
	if err != nil {
		b.Fatal(err)
	}
	under1, err := ring.Seal(secret, aad)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		open   func([]byte, []byte) ([]byte, error)
		sealed []byte
	}{
		{name: "box", open: box.Open, sealed: under0},
		{name: "ring key 0", open: ring.Open, sealed: under0},
		{name: "ring key 1", open: ring.Open, sealed: under1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.open(bc.sealed, aad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
