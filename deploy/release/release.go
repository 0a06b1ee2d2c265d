package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"tokenauthority/deploy/build"
	"tokenauthority/deploy/image"
)

// release writes one release into out.
type release struct {
	root, out string
	stamp     build.Stamp
	stdout    io.Writer
	built     []string // file names in out, for SHA256SUMS
}

// path is where the binary prog for goos/goarch goes.
func (r *release) path(prog, goos, goarch string) string {
	return filepath.Join(r.out, fmt.Sprintf("%s-%s-%s", prog, goos, goarch))
}

func (r *release) binary(ctx context.Context, prog, goos, goarch string) error {
	out := r.path(prog, goos, goarch)
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	t := build.Target{Package: "./cmd/" + prog, GOOS: goos, GOARCH: goarch, Out: abs}
	if err := build.Binary(ctx, r.root, t, r.stamp); err != nil {
		return err
	}
	r.built = append(r.built, filepath.Base(out))
	fmt.Fprintf(r.stdout, "built %s (%s)\n", out, r.stamp.Version)
	return nil
}

// sums writes SHA256SUMS in the format sha256sum -c reads.
func (r *release) sums() error {
	sort.Strings(r.built)
	var b strings.Builder
	for _, name := range r.built {
		sum, err := fileSHA256(filepath.Join(r.out, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, name)
	}
	path := filepath.Join(r.out, "SHA256SUMS")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "wrote %s\n", path)
	return nil
}

func (r *release) image(platforms []image.Platform, caCerts string, meta image.Meta) error {
	dir := filepath.Join(r.out, "image")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	idx, err := image.Build(platforms, caCerts, meta)
	if err != nil {
		return err
	}
	if err := image.WriteLayout(dir, idx); err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "wrote OCI image layout %s (index %s)\n", dir, digest)
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
