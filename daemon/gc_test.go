package daemon_test

import (
	"testing"

	"tokenauthority/daemon"
)

func TestGCPercent(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	tests := []struct {
		name  string
		bytes int64
		want  int
	}{
		{"no index", 0, 100},
		{"an index within the headroom keeps the default", 64 * mib, 100},
		{"twice the headroom", 128 * mib, 50},
		{"a million tokens", 220 * mib, 29},
		{"never below 20", 4096 * mib, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := daemon.GCPercent(tt.bytes); got != tt.want {
				t.Fatalf("GCPercent(%d MiB) = %d, want %d", tt.bytes/mib, got, tt.want)
			}
		})
	}
}
