package build

import (
	"context"
	"time"
)

// Commit returns the commit at HEAD of dir and its commit time; without
// git, "" and the Unix epoch, so that the image stays reproducible (the
// image's created time is the commit time, never the build time).
func Commit(ctx context.Context, dir string) (string, time.Time) {
	rev, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", time.Unix(0, 0)
	}
	s, err := git(ctx, dir, "log", "-1", "--format=%cI", "HEAD")
	if err != nil {
		return rev, time.Unix(0, 0)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return rev, time.Unix(0, 0)
	}
	return rev, t
}
