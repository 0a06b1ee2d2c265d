package deploy_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestImageServes runs the server of the image the way a container runtime
// with a read-only root file system and a data volume would: the layer is
// unpacked into a directory, everything but /data owned by root, and the
// binary runs chrooted there as 65532:65532 with the image's environment
// and working directory (listeners moved to loopback ephemeral ports). It
// must start, answer /healthz and /readyz, write only under /data, and stop
// cleanly on SIGTERM.
func TestImageServes(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("running the image's server chrooted as user 65532 needs root (scripts/test runs as root)")
	}
	cf, files := readImage(t)
	root := filepath.Join(t.TempDir(), "rootfs")
	unpack(t, root, files)

	cmd := exec.Command(cf.Config.Entrypoint[0], "--log-format", "json")
	cmd.Env = append(cf.Config.Env, "TOKENAUTHORITY_GRPC_ADDR=127.0.0.1:0", "TOKENAUTHORITY_HTTP_ADDR=127.0.0.1:0")
	cmd.Dir = cf.Config.WorkingDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	serveAndStop(t, cmd, "/healthz", "/readyz")
	for _, name := range []string{"tokenauthority.db", "master.key", "admin.credential"} {
		if _, err := os.Stat(filepath.Join(root, "data", name)); err != nil {
			t.Errorf("data volume: %v", err)
		}
	}
	// Nothing appeared outside /data: the root file system could have been read-only.
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		if rel == "/data" && d.IsDir() {
			return fs.SkipDir
		}
		if _, ok := files[rel]; !ok && rel != "/" {
			t.Errorf("server wrote %s outside its data volume", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// unpack writes the layer's files under root, owned by root except /data
// (the volume, owned by 65532 as in the image): to user 65532 the rest is
// read-only, as with readOnlyRootFilesystem.
func unpack(t *testing.T, root string, files map[string]layerFile) {
	t.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, f := range files { // directories first: map order is random, MkdirAll covers parents
		if f.hdr.Typeflag == '5' {
			if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, f := range files {
		p := filepath.Join(root, name)
		switch {
		case f.hdr.Typeflag == '5':
		case f.hdr.Typeflag == '0':
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.body, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("layer entry %s of type %c; want files and directories only", name, f.hdr.Typeflag)
		}
		uid, gid := 0, 0
		if name == "/data" {
			uid, gid = f.hdr.Uid, f.hdr.Gid
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, fs.FileMode(f.hdr.Mode).Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
