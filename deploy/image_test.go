package deploy_test

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"tokenauthority/daemon"
	"tokenauthority/deploy/image"
)

// readImage reads the host platform's image back from the release's OCI
// layout, and its only layer's files.
func readImage(t *testing.T) (*v1.ConfigFile, map[string]layerFile) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(filepath.Join(dist, "image"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests; want 1 (one platform built)", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != runtime.GOARCH {
		t.Fatalf("manifest platform = %+v; want linux/%s", desc.Platform, runtime.GOARCH)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("image has %d layers; want 1 on an empty base", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files, err := readTar(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cf, files
}

// layerFile is one entry of the layer.
type layerFile struct {
	hdr  *tar.Header
	body []byte
}

func readTar(r io.Reader) (map[string]layerFile, error) {
	files := map[string]layerFile{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = layerFile{h, b}
	}
}

func TestImageConfig(t *testing.T) {
	t.Parallel()
	cf, _ := readImage(t)
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User = %q; want 65532:65532", c.User)
	}
	if want := []string{"/usr/local/bin/tokenauthority"}; !slices.Equal(c.Entrypoint, want) {
		t.Errorf("Entrypoint = %q; want %q", c.Entrypoint, want)
	}
	if diff := cmp.Diff(map[string]struct{}{"50051/tcp": {}, "8080/tcp": {}}, c.ExposedPorts); diff != "" {
		t.Errorf("ExposedPorts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]struct{}{"/data": {}}, c.Volumes); diff != "" {
		t.Errorf("Volumes (-want +got):\n%s", diff)
	}
	for _, k := range []string{"title", "description", "version", "revision", "created"} {
		if c.Labels["org.opencontainers.image."+k] == "" {
			t.Errorf("label org.opencontainers.image.%s missing; labels %v", k, c.Labels)
		}
	}
	if v := c.Labels["org.opencontainers.image.version"]; !strings.HasPrefix(v, "v") {
		t.Errorf("version label %q; want the release version", v)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config platform %s/%s; want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
}

// TestImageEnvironmentConfiguresServer: the image's environment, read by
// the server's own configuration parser, puts the data on the volume and
// the listeners on every interface of the container.
func TestImageEnvironmentConfiguresServer(t *testing.T) {
	t.Parallel()
	cf, _ := readImage(t)
	env := map[string]string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := daemon.ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.DataDir, cfg.GRPCAddr, cfg.HTTPAddr}
	if want := []string{"/data", "0.0.0.0:50051", "0.0.0.0:8080"}; !slices.Equal(got, want) {
		t.Errorf("data dir, gRPC and HTTP address from the image's environment = %q; want %q", got, want)
	}
}

func TestImageLayer(t *testing.T) {
	t.Parallel()
	_, files := readImage(t)
	tests := []struct {
		path     string
		mode     int64
		uid      int
		contains string
	}{
		{"/usr/local/bin/tokenauthority", 0o755, 0, "\x7fELF"},
		{"/etc/passwd", 0o644, 0, "nonroot:x:65532:65532:"},
		{"/etc/group", 0o644, 0, "nonroot:x:65532:"},
		{"/etc/ssl/certs/ca-certificates.crt", 0o644, 0, "-----BEGIN CERTIFICATE-----"},
		{"/data", 0o700, 65532, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, ok := files[tt.path]
			if !ok {
				t.Fatalf("layer lacks %s", tt.path)
			}
			if f.hdr.Mode != tt.mode || f.hdr.Uid != tt.uid {
				t.Errorf("%s: mode %o uid %d; want %o uid %d", tt.path, f.hdr.Mode, f.hdr.Uid, tt.mode, tt.uid)
			}
			if !bytes.Contains(f.body, []byte(tt.contains)) {
				t.Errorf("%s does not contain %q", tt.path, tt.contains)
			}
		})
	}
	if _, ok := files["/tmp"]; ok {
		t.Error("the image has /tmp; the server must not need one (read-only root file system)")
	}
}

// TestImageBinaryIsStatic: no interpreter and no dynamic section, so the
// binary runs on the empty base.
func TestImageBinaryIsStatic(t *testing.T) {
	t.Parallel()
	_, files := readImage(t)
	f, err := elf.NewFile(bytes.NewReader(files[image.BinaryPath].body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %s program header; want a static binary (CGO_ENABLED=0)", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Error("binary has a .dynamic section")
	}
}
