package image_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokenauthority/deploy/image"
)

// TestBuildReproducible: the same binaries, certificates and metadata give
// the same index digest, whenever and wherever they are built.
func TestBuildReproducible(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin, certs := filepath.Join(dir, "bin"), filepath.Join(dir, "certs.pem")
	for p, body := range map[string]string{bin: "\x7fELF not really", certs: "-----BEGIN CERTIFICATE-----\n"} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	platforms := []image.Platform{{OS: "linux", Architecture: "amd64", Binary: bin}, {OS: "linux", Architecture: "arm64", Binary: bin}}
	meta := image.Meta{Version: "v0.1.0", Revision: "abc", Created: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}
	var digests []string
	for i := range 2 {
		idx, err := image.Build(platforms, certs, meta)
		if err != nil {
			t.Fatal(err)
		}
		d, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d.String())
		if err := image.WriteLayout(filepath.Join(dir, fmt.Sprint("layout", i)), idx); err != nil {
			t.Fatal(err)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same input: %s and %s", digests[0], digests[1])
	}
}

func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		platforms []image.Platform
		certs     string
		want      string
	}{
		{"no platform", nil, bin, "no platform"},
		{"no CA bundle", []image.Platform{{OS: "linux", Architecture: "amd64", Binary: bin}}, filepath.Join(dir, "missing.crt"), "install ca-certificates"},
		{"no binary", []image.Platform{{OS: "linux", Architecture: "amd64", Binary: filepath.Join(dir, "nope")}}, bin, "linux/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := image.Build(tt.platforms, tt.certs, image.Meta{Version: "v0.1.0"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build: %v; want an error saying %q", err, tt.want)
			}
		})
	}
}
