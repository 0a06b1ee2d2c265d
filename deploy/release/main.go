// Command release builds what a release ships, from the module's source
// tree, without a container engine:
//
//	dist/tokenauthority-linux-amd64, -arm64   static server binaries
//	dist/tokenctl-linux-amd64, -arm64         static CLI binaries
//	dist/SHA256SUMS                           sha256sum -c format
//	dist/image/                               OCI image layout, both platforms
//
// Run from the repository root: go run ./deploy/release (scripts/release).
// -image-only builds only the server binaries and the image.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"tokenauthority/deploy/build"
	"tokenauthority/deploy/image"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	out := fs.String("out", "dist", "directory to write the release into")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated GOOS/GOARCH pairs")
	version := fs.String("version", "", "version to stamp (default: git describe --tags, else CHANGELOG.md's newest release)")
	imageOnly := fs.Bool("image-only", false, "build only the server binaries and the image, not tokenctl")
	caCerts := fs.String("ca-certs", image.DefaultCACerts, "CA bundle to put into the image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "deploy", "release", "main.go")); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	if *version == "" {
		if *version, err = build.Version(ctx, root); err != nil {
			return err
		}
	}
	revision, created := build.Commit(ctx, root)
	stamp := build.Stamp{Version: *version}
	if revision != "" {
		stamp.Commit, stamp.Date = revision, created.UTC().Format(time.RFC3339)
	}
	r := release{root: root, out: *out, stamp: stamp, stdout: stdout}
	programs := []string{"tokenauthority", "tokenctl"}
	if *imageOnly {
		programs = programs[:1]
	}
	var images []image.Platform
	for _, p := range strings.Split(*platforms, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || goos == "" || goarch == "" {
			return fmt.Errorf("-platforms %q: want GOOS/GOARCH pairs", *platforms)
		}
		for _, prog := range programs {
			if err := r.binary(ctx, prog, goos, goarch); err != nil {
				return err
			}
		}
		images = append(images, image.Platform{OS: goos, Architecture: goarch, Binary: r.path("tokenauthority", goos, goarch)})
	}
	if err := r.sums(); err != nil {
		return err
	}
	return r.image(images, *caCerts, image.Meta{Version: *version, Revision: revision, Created: created})
}
