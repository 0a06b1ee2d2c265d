package storage_test

import (
	"errors"
	"strings"
	"testing"

	"tokenauthority/storage"
)

func TestCheckID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want error
	}{
		{"acme", nil},
		{"a-b-9", nil},
		{strings.Repeat("a", storage.MaxIDLen), nil},
		{"", storage.ErrInvalid},
		{"a\x00b", storage.ErrInvalid},
		{strings.Repeat("a", storage.MaxIDLen+1), storage.ErrInvalid},
	}
	for _, tt := range tests {
		if got := storage.CheckID("workspace", tt.id); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
			t.Errorf("CheckID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
