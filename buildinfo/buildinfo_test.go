package buildinfo_test

import (
	"regexp"
	"testing"

	"tokenauthority/buildinfo"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		info buildinfo.Info
		want string
	}{
		{buildinfo.Info{Version: "v1.2.3", Commit: "abc123", Date: "2026-11-27T09:00:00Z", GoVersion: "go1.26.0"},
			"v1.2.3 (commit abc123, date 2026-11-27T09:00:00Z, go1.26.0)"},
		{buildinfo.Info{Version: "(devel)", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.0"},
			"(devel) (commit unknown, date unknown, go1.26.0)"},
	}
	for _, tt := range tests {
		if got := tt.info.String(); got != tt.want {
			t.Errorf("String() = %q; want %q", got, tt.want)
		}
	}
}

// TestRead reads the test binary's own build information: a Go version is
// always there; nothing is left empty.
func TestRead(t *testing.T) {
	t.Parallel()
	info := buildinfo.Read()
	if !regexp.MustCompile(`^go1\.`).MatchString(info.GoVersion) {
		t.Errorf("GoVersion = %q; want go1.x", info.GoVersion)
	}
	for name, v := range map[string]string{"Version": info.Version, "Commit": info.Commit, "Date": info.Date} {
		if v == "" {
			t.Errorf("%s is empty; want a value or \"unknown\"", name)
		}
	}
}
