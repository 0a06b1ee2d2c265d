package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNoRelease is returned by ChangelogRelease when CHANGELOG.md names no
// released version.
var ErrNoRelease = errors.New("CHANGELOG.md names no release")

// releaseHeading matches a Keep a Changelog release heading,
// "## [0.1.0] - 2026-12-05", and not "## [Unreleased]".
var releaseHeading = regexp.MustCompile(`^## \[(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\] - \d{4}-\d{2}-\d{2}\s*$`)

// ChangelogRelease returns the newest release named in a Keep a Changelog
// file, with a leading "v" ("v0.1.0").
func ChangelogRelease(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := releaseHeading.FindStringSubmatch(sc.Text()); m != nil {
			return "v" + m[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", ErrNoRelease
}

// Version returns the version of the source tree at dir: the output of
// `git describe --tags --match 'v*' --dirty` ("v0.1.0", or
// "v0.1.0-3-gabc1234-dirty" past the tag), or, when git or its tags are
// missing, CHANGELOG.md's newest release followed by "+untagged" and the
// short commit when git knows it ("v0.1.0+untagged.abc1234", and ".dirty"
// when the tree has changes).
func Version(ctx context.Context, dir string) (string, error) {
	if out, err := git(ctx, dir, "describe", "--tags", "--match", "v*", "--dirty"); err == nil {
		return out, nil
	}
	f, err := os.Open(filepath.Join(dir, "CHANGELOG.md"))
	if err != nil {
		return "", fmt.Errorf("no git tag and no changelog: %w", err)
	}
	defer f.Close()
	v, err := ChangelogRelease(f)
	if err != nil {
		return "", err
	}
	v += "+untagged"
	if commit, err := git(ctx, dir, "rev-parse", "--short=7", "HEAD"); err == nil {
		v += "." + commit
		if st, err := git(ctx, dir, "status", "--porcelain"); err == nil && st != "" {
			v += ".dirty"
		}
	}
	return v, nil
}

// git runs git in dir and returns its trimmed standard output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
