package e2e_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tokenctl runs the built tokenctl against p with credential and returns its
// output and exit code.
func tokenctl(t *testing.T, p *proc, credential string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bins.tokenctl, args...)
	cmd.Env = append(walkthroughEnv(p), "TOKENAUTHORITY_CREDENTIAL="+credential)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("tokenctl %v: %v", args, err)
	}
	return string(out), 0
}

// TestRotateBootstrapCredential follows the README: delete admin.credential
// and restart for a new one; then replace it by a credentials file.
func TestRotateBootstrapCredential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	old := p.admin
	if out, code := tokenctl(t, p, old, "workspace", "create", "acme"); code != 0 {
		t.Fatalf("workspace create: exit %d: %s", code, out)
	}
	p.stop(t)

	if err := os.Remove(filepath.Join(dir, "admin.credential")); err != nil {
		t.Fatal(err)
	}
	p = startServer(t, dir)
	if p.admin == old || p.admin == "" {
		t.Fatalf("after deleting admin.credential the server kept the old credential")
	}
	if out, code := tokenctl(t, p, old, "workspace", "get", "acme"); code != 4 || !strings.Contains(out, "not valid") {
		t.Errorf("old credential after rotation: exit %d, %q; want 4 and a one-line reason", code, out)
	}
	if out, code := tokenctl(t, p, p.admin, "workspace", "get", "acme"); code != 0 {
		t.Errorf("new credential: exit %d: %s (the workspace must survive a rotation)", code, out)
	}
	p.stop(t)

	// Replace it by a credentials file, made as the README makes it.
	const named = "tkas_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	sum := sha256.Sum256([]byte(named))
	file := filepath.Join(t.TempDir(), "credentials.json")
	content := fmt.Sprintf(`{"credentials": [{"name": "hub-web", "role": "admin", "sha256": "%s"}]}`+"\n", hex.EncodeToString(sum[:]))
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	bootstrap := p.admin
	p = startServer(t, dir, "--credentials-file", file)
	if out, code := tokenctl(t, p, named, "workspace", "get", "acme"); code != 0 {
		t.Errorf("named credential: exit %d: %s", code, out)
	}
	if out, code := tokenctl(t, p, bootstrap, "workspace", "get", "acme"); code != 4 {
		t.Errorf("bootstrap credential with --credentials-file: exit %d, %q; want 4", code, out)
	}
}
