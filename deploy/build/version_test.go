package build_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tokenauthority/deploy/build"
)

func TestChangelogRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, want string
		err              error
	}{
		{"unreleased skipped", "# Changelog\n\n## [Unreleased]\n\n### Added\n\n## [0.2.0] - 2027-01-02\n\n## [0.1.0] - 2026-12-05\n", "v0.2.0", nil},
		{"pre-release", "## [1.0.0-rc.1] - 2027-03-01\n", "v1.0.0-rc.1", nil},
		{"no release yet", "# Changelog\n\n## [Unreleased]\n", "", build.ErrNoRelease},
		{"heading without date", "## [0.1.0]\n", "", build.ErrNoRelease},
		{"not a version", "## [next] - 2026-12-05\n", "", build.ErrNoRelease},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := build.ChangelogRelease(strings.NewReader(tt.text))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("ChangelogRelease = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestVersion builds a small git repository: the tag wins when there is
// one; without tags (a CI clone) the changelog's release, marked untagged.
func TestVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := build.Version(ctx, dir); err == nil {
		t.Fatal("Version of a directory with neither git nor a changelog succeeded")
	}
	git("init", "-q")
	write("CHANGELOG.md", "## [Unreleased]\n\n## [0.3.0] - 2027-02-01\n")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	steps := []struct {
		name string
		do   func()
		want string // a regular expression
	}{
		{"no tags", func() {}, `^v0\.3\.0\+untagged\.[0-9a-f]{7}$`},
		{"no tags, dirty", func() { write("x", "x") }, `^v0\.3\.0\+untagged\.[0-9a-f]{7}\.dirty$`},
		{"tagged", func() { git("add", "."); git("commit", "-q", "-m", "x"); git("tag", "-a", "v0.3.0", "-m", "v0.3.0") }, `^v0\.3\.0$`},
		{"past the tag", func() { write("y", "y"); git("add", "."); git("commit", "-q", "-m", "y") }, `^v0\.3\.0-1-g[0-9a-f]+$`},
	}
	for _, s := range steps {
		s.do()
		got, err := build.Version(ctx, dir)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !regexp.MustCompile(s.want).MatchString(got) {
			t.Errorf("%s: Version = %q; want %s", s.name, got, s.want)
		}
	}
}
