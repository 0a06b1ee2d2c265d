package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are in the image; the Containerfile, the Helm chart and
// the docs use the same paths and ports.
const (
	BinaryPath = "/usr/local/bin/tokenauthority"
	CACertPath = "/etc/ssl/certs/ca-certificates.crt"
	DataDir    = "/data"
	User       = "65532:65532"
	GRPCPort   = "50051/tcp"
	HTTPPort   = "8080/tcp"
)

// DefaultCACerts is the CA bundle of a Debian build machine (package
// ca-certificates).
const DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"

// Meta describes the build, for the OCI labels.
type Meta struct {
	Version  string
	Revision string    // VCS commit; empty when unknown
	Created  time.Time // the commit time, so that a rebuild gives the same config
}

// Platform is one image of the index: the server binary built for it.
type Platform struct {
	OS, Architecture string
	Binary           string // path of the static tokenauthority binary
}

// Build returns an OCI image index with one image per platform, each an
// empty base plus one layer, configured to run the server as 65532:65532
// with its data under /data.
func Build(platforms []Platform, caCerts string, meta Meta) (v1.ImageIndex, error) {
	if len(platforms) == 0 {
		return nil, fmt.Errorf("no platform to build")
	}
	certs, err := os.ReadFile(caCerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates (install ca-certificates): %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img, err := platformImage(p, certs, meta)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", p.OS, p.Architecture, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture}},
		})
	}
	return idx, nil
}

// WriteLayout writes idx as an OCI image layout in dir, which must not
// exist yet or be empty.
func WriteLayout(dir string, idx v1.ImageIndex) error {
	_, err := layout.Write(dir, idx)
	return err
}

func platformImage(p Platform, certs []byte, meta Meta) (v1.Image, error) {
	bin, err := os.ReadFile(p.Binary)
	if err != nil {
		return nil, err
	}
	tb, err := rootFS(bin, certs)
	if err != nil {
		return nil, err
	}
	layer, err := layerFrom(tb)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Architecture
	cf.Created = v1.Time{Time: meta.Created.UTC()}
	cf.Config = Config(meta)
	cf.History = []v1.History{{Created: cf.Created, CreatedBy: "tokenauthority deploy/image", Comment: "static binary, CA certificates, passwd entry for 65532"}}
	return mutate.ConfigFile(img, cf)
}

// Config is the run configuration of the image: what the Containerfile's
// USER, ENTRYPOINT, EXPOSE, VOLUME, ENV and LABEL lines say.
func Config(meta Meta) v1.Config {
	labels := map[string]string{
		"org.opencontainers.image.title":       "tokenauthority",
		"org.opencontainers.image.description": "Workspace tokens for a model hub: gRPC and REST API, gateway decisions",
		"org.opencontainers.image.version":     meta.Version,
		"org.opencontainers.image.created":     meta.Created.UTC().Format(time.RFC3339),
	}
	if meta.Revision != "" {
		labels["org.opencontainers.image.revision"] = meta.Revision
	}
	return v1.Config{
		User:       User,
		Entrypoint: []string{BinaryPath},
		WorkingDir: DataDir,
		Env: []string{
			"PATH=/usr/local/bin",
			"TOKENAUTHORITY_DATA_DIR=" + DataDir,
			// Inside a container the listeners must face the pod network.
			"TOKENAUTHORITY_GRPC_ADDR=0.0.0.0:50051",
			"TOKENAUTHORITY_HTTP_ADDR=0.0.0.0:8080",
		},
		ExposedPorts: map[string]struct{}{GRPCPort: {}, HTTPPort: {}},
		Volumes:      map[string]struct{}{DataDir: {}},
		Labels:       labels,
		StopSignal:   "SIGTERM",
	}
}

// layerFrom makes a gzip-compressed OCI layer of an uncompressed tar.
func layerFrom(b []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// entry is one file or directory of the root file system.
type entry struct {
	mode     int64
	uid, gid int
	body     []byte // nil for a directory
}

// rootFS returns the tar of the image's only layer.
func rootFS(bin, certs []byte) ([]byte, error) {
	files := map[string]entry{
		"etc/":                              {0o755, 0, 0, nil},
		"etc/passwd":                        {0o644, 0, 0, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		"etc/group":                         {0o644, 0, 0, []byte("root:x:0:\nnonroot:x:65532:\n")},
		"etc/ssl/":                          {0o755, 0, 0, nil},
		"etc/ssl/certs/":                    {0o755, 0, 0, nil},
		"etc/ssl/certs/ca-certificates.crt": {0o644, 0, 0, certs},
		"home/":                             {0o755, 0, 0, nil},
		"home/nonroot/":                     {0o700, 65532, 65532, nil},
		"usr/":                              {0o755, 0, 0, nil},
		"usr/local/":                        {0o755, 0, 0, nil},
		"usr/local/bin/":                    {0o755, 0, 0, nil},
		"usr/local/bin/tokenauthority":      {0o755, 0, 0, bin},
		"data/":                             {0o700, 65532, 65532, nil},
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names) // parents before children, and a stable digest
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := files[n]
		h := &tar.Header{Name: n, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if e.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
