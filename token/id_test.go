package token_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tokenauthority/token"
)

func TestNewIDTimePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
		want string // the first 10 characters: the 48-bit time
	}{
		{name: "epoch", now: time.UnixMilli(0), want: "0000000000"},
		// The example of the ULID specification, in lower case.
		{name: "ulid spec example", now: time.UnixMilli(1469918176385), want: "01aryz6s41"},
		{name: "last millisecond", now: time.UnixMilli(1<<48 - 1), want: "7zzzzzzzzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := token.NewID(tt.now)
			if err != nil {
				t.Fatalf("NewID() error = %v", err)
			}
			if got := id[:10]; got != tt.want {
				t.Errorf("NewID() time part = %q, want %q", got, tt.want)
			}
			if !token.ValidID(id) {
				t.Errorf("ValidID(%q) = false, want true", id)
			}
		})
	}
}

func TestNewIDTimeRange(t *testing.T) {
	t.Parallel()
	for _, now := range []time.Time{time.UnixMilli(-1), time.UnixMilli(1 << 48), {}} {
		if _, err := token.NewID(now); !errors.Is(err, token.ErrTimeRange) {
			t.Errorf("NewID(%v) error = %v, want ErrTimeRange", now, err)
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 10000 {
		id, err := token.NewID(base.Add(time.Duration(i) * time.Millisecond))
		if err != nil {
			t.Fatalf("NewID() error = %v", err)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Error("ids of increasing creation times do not sort in creation order")
	}
}

func TestNewIDUnique(t *testing.T) {
	t.Parallel()
	// One fixed millisecond: uniqueness rests on the 80 random bits alone.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := make(map[string]bool)
	for range 10000 {
		id, err := token.NewID(now)
		if err != nil {
			t.Fatalf("NewID() error = %v", err)
		}
		if seen[id] {
			t.Fatalf("NewID() returned duplicate %q", id)
		}
		seen[id] = true
		if !token.ValidID(id) {
			t.Fatalf("ValidID(%q) = false, want true", id)
		}
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	valid, err := token.NewID(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatalf("NewID() error = %v", err)
	}
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{name: "fresh", id: valid, want: true},
		{name: "all zero", id: strings.Repeat("0", 26), want: true},
		{name: "largest", id: "7" + strings.Repeat("z", 25), want: true},
		{name: "empty", id: "", want: false},
		{name: "short", id: valid[:25], want: false},
		{name: "long", id: valid + "0", want: false},
		{name: "over 128 bits", id: "8" + valid[1:], want: false},
		{name: "upper case", id: strings.ToUpper(valid[:1]) + "A" + valid[2:], want: false},
		{name: "letter i", id: valid[:20] + "i" + valid[21:], want: false},
		{name: "letter l", id: valid[:20] + "l" + valid[21:], want: false},
		{name: "letter o", id: valid[:20] + "o" + valid[21:], want: false},
		{name: "letter u", id: valid[:20] + "u" + valid[21:], want: false},
		{name: "dash", id: valid[:20] + "-" + valid[21:], want: false},
		{name: "path traversal", id: "../" + valid[3:], want: false},
		{name: "a secret", id: goldenMixed, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := token.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestIDTime(t *testing.T) {
	t.Parallel()
	for _, now := range []time.Time{
		time.UnixMilli(0),
		time.Date(2026, 11, 26, 12, 0, 0, 123_000_000, time.UTC),
		time.UnixMilli(1<<48 - 1),
	} {
		id, err := token.NewID(now)
		if err != nil {
			t.Fatalf("NewID(%v): %v", now, err)
		}
		got, ok := token.IDTime(id)
		if !ok || !got.Equal(now) {
			t.Errorf("IDTime(NewID(%v)) = %v, %v; want the same time", now, got, ok)
		}
	}
	for _, bad := range []string{"", "01", "8zzzzzzzzzzzzzzzzzzzzzzzzz", "0000000000000000000000000i"} {
		if _, ok := token.IDTime(bad); ok {
			t.Errorf("IDTime(%q) = ok; want false", bad)
		}
	}
}
