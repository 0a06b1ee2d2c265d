package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Target is one binary to build for one platform.
type Target struct {
	Package string // import path or ./-relative package, e.g. ./cmd/tokenauthority
	GOOS    string
	GOARCH  string
	Out     string // file to write
}

// Stamp is what a release binary says about itself (tokenauthority/buildinfo).
type Stamp struct {
	Version string
	Commit  string // empty when unknown
	Date    string // commit time, RFC 3339; empty when unknown
}

// Binary builds t from the module at dir: CGO_ENABLED=0 (a static binary
// that runs on an empty image), -trimpath (no build machine paths), no
// symbol table, and s stamped into tokenauthority/buildinfo. The go
// command's output is returned in the error when it fails.
func Binary(ctx context.Context, dir string, t Target, s Stamp) error {
	ldflags := "-s -w -X tokenauthority/buildinfo.version=" + s.Version
	if s.Commit != "" {
		ldflags += " -X tokenauthority/buildinfo.commit=" + s.Commit + " -X tokenauthority/buildinfo.date=" + s.Date
	}
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", t.Out, t.Package}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s (GOOS=%s GOARCH=%s): %w\n%s", strings.Join(args, " "), t.GOOS, t.GOARCH, err, out)
	}
	return nil
}
