package seal_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"tokenauthority/seal"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	return key
}

func newBox(t testing.TB, key []byte) *seal.Box {
	t.Helper()
	b, err := seal.New(key)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return b
}

func TestNewKeySize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
		want error
	}{
		{name: "nil", size: 0, want: seal.ErrKeySize},
		{name: "AES-128", size: 16, want: seal.ErrKeySize},
		{name: "AES-192", size: 24, want: seal.ErrKeySize},
		{name: "one short", size: 31, want: seal.ErrKeySize},
		{name: "one long", size: 33, want: seal.ErrKeySize},
		{name: "AES-256", size: 32, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := seal.New(make([]byte, tt.size))
			if !errors.Is(err, tt.want) {
				t.Errorf("New(%d bytes) error = %v, want %v", tt.size, err, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	b := newBox(t, newKey(t))
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{name: "token", plaintext: []byte("tka_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ1XsZEv"), aad: []byte("01aryz6s41abcdefghjkmnpqrs")},
		{name: "empty plaintext", plaintext: []byte{}, aad: []byte("id")},
		{name: "no aad", plaintext: []byte("secret"), aad: nil},
		{name: "large", plaintext: bytes.Repeat([]byte{0xa5}, 1<<16), aad: []byte("id")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed, err := b.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal() error = %v", err)
			}
			if got, want := len(sealed), len(tt.plaintext)+seal.Overhead; got != want {
				t.Errorf("len(Seal()) = %d, want %d", got, want)
			}
			if len(tt.plaintext) >= 8 && bytes.Contains(sealed, tt.plaintext[:8]) {
				t.Error("Seal() output contains the plaintext")
			}
			got, err := b.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open() = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

// TestSealFreshNonce: sealing the same value twice must not give the same
// bytes, or a reader of the store could tell equal secrets apart.
func TestSealFreshNonce(t *testing.T) {
	t.Parallel()
	b := newBox(t, newKey(t))
	x, err := b.Seal([]byte("same"), []byte("id"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.Seal([]byte("same"), []byte("id"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(x[:12], y[:12]) || bytes.Equal(x, y) {
		t.Error("two seals of the same plaintext are equal or share a nonce")
	}
}

// TestOpenAcrossBoxes: a sealed value opens under another Box made from the
// same key, as after a restart.
func TestOpenAcrossBoxes(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	sealed, err := newBox(t, key).Seal([]byte("secret"), []byte("id"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := newBox(t, key).Open(sealed, []byte("id"))
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if string(got) != "secret" {
		t.Errorf("Open() = %q, want %q", got, "secret")
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	b := newBox(t, key)
	aad := []byte("01aryz6s41abcdefghjkmnpqrs")
	sealed, err := b.Seal([]byte("tka_secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 1
		return c
	}
	tests := []struct {
		name   string
		box    *seal.Box
		sealed []byte
		aad    []byte
	}{
		{name: "wrong key", box: newBox(t, newKey(t)), sealed: sealed, aad: aad},
		{name: "wrong aad", box: b, sealed: sealed, aad: []byte("01aryz6s41abcdefghjkmnpqrt")},
		{name: "missing aad", box: b, sealed: sealed, aad: nil},
		{name: "nonce tampered", box: b, sealed: flip(0), aad: aad},
		{name: "ciphertext tampered", box: b, sealed: flip(12), aad: aad},
		{name: "tag tampered", box: b, sealed: flip(len(sealed) - 1), aad: aad},
		{name: "truncated by one", box: b, sealed: sealed[:len(sealed)-1], aad: aad},
		{name: "nonce and tag only", box: b, sealed: sealed[:seal.Overhead-1], aad: aad},
		{name: "nonce only", box: b, sealed: sealed[:12], aad: aad},
		{name: "empty", box: b, sealed: nil, aad: aad},
		{name: "extended", box: b, sealed: append(bytes.Clone(sealed), 0), aad: aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.box.Open(tt.sealed, tt.aad)
			if !errors.Is(err, seal.ErrOpen) {
				t.Errorf("Open() error = %v, want ErrOpen", err)
			}
			if got != nil {
				t.Errorf("Open() = %q, want nil", got)
			}
		})
	}
}

// TestConcurrentUse runs Seal and Open from many goroutines on one Box; the
// race detector (go test -race) turns shared mutable state into a failure.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := newBox(t, newKey(t))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for range 100 {
				sealed, err := b.Seal([]byte("secret"), []byte("id"))
				if err == nil {
					_, err = b.Open(sealed, []byte("id"))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Seal/Open error = %v", err)
	}
}

func BenchmarkSeal(b *testing.B) {
	box := newBox(b, newKey(b))
	secret := []byte("tka_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ1XsZEv")
	aad := []byte("01aryz6s41abcdefghjkmnpqrs")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := box.Seal(secret, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	box := newBox(b, newKey(b))
	aad := []byte("01aryz6s41abcdefghjkmnpqrs")
	sealed, err := box.Seal([]byte("tka_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ1XsZEv"), aad)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := box.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
