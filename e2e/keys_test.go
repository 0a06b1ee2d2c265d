package e2e_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryKeyRotation runs the documented rotation procedure with the
// built binary: rotate, reseal, retire key 0, and serve again with the
// ring alone, every token revealing its original secret.
func TestBinaryKeyRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	c := newClient(t, p)
	c.members(t, "acme", "alice")
	secrets := map[string]any{}
	for range 3 {
		created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
		secrets[created["token"].(map[string]any)["token_id"].(string)] = created["secret"]
	}
	if onEtcd() {
		etcdKeyRotation(t, p, secrets)
		return
	}
	// rotate may run while the server serves; reseal may not.
	if out, err := run(t, false, bins.server, "keys", "rotate", "--data-dir", dir); !strings.Contains(out, "added key 1") {
		t.Errorf("keys rotate: %v\n%s", err, out)
	}
	out, err := run(t, true, bins.server, "keys", "reseal", "--data-dir", dir)
	if err == nil || !strings.Contains(out, "stop it first") {
		t.Errorf("keys reseal while serving: %v\n%s\nwant a refusal", err, out)
	}
	p.stop(t)

	out, err = run(t, true, bins.server, "keys", "retire", "--id", "0", "--data-dir", dir)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "3 secrets are still sealed under key 0") {
		t.Errorf("keys retire --id 0 before reseal: %v\n%s\nwant exit 1 and a refusal", err, out)
	}
	// The data directory may come from the environment, as for the server.
	cmd := exec.Command(bins.server, "keys", "reseal", "--batch", "2")
	cmd.Env = append(os.Environ(), "TOKENAUTHORITY_DATA_DIR="+dir)
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "re-sealed 3 of 3 secrets under key 1 in 2 commits") {
		t.Errorf("keys reseal: %v\n%s", err, b)
	}
	run(t, false, bins.server, "keys", "retire", "--id", "0", "--data-dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("master.key after retiring key 0: %v; want it gone", err)
	}
	out, _ = run(t, false, bins.server, "keys", "list", "--data-dir", dir)
	if want := "1      3        " + filepath.Join(dir, "master.keys") + " (seals new secrets)"; !strings.Contains(out, want) || strings.Contains(out, "\n0 ") {
		t.Errorf("keys list:\n%s\nwant only key 1, sealing 3 secrets", out)
	}

	p = startServer(t, dir)
	c = newClient(t, p)
	for id, want := range secrets {
		got := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens/"+id+":reveal", "", 200)
		if got["secret"] != want {
			t.Errorf("token %s revealed another secret after the rotation", id)
		}
	}
	p.stop(t)

	out, err = run(t, true, bins.server, "keys")
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "Usage: tokenauthority keys") {
		t.Errorf("keys without a command: %v\n%s\nwant the usage and exit 1", err, out)
	}
}

// etcdKeyRotation is the rotation with --store etcd: the ring file is
// rotated as on bbolt and a restarted server seals new secrets under the
// new key while every old secret still reveals; the commands that walk the
// store's secrets (list, reseal, retire) work on the bbolt file only and
// say so.
func etcdKeyRotation(t *testing.T, p *proc, secrets map[string]any) {
	dir := p.dataDir
	if out, err := run(t, false, bins.server, "keys", "rotate", "--data-dir", dir); !strings.Contains(out, "added key 1") {
		t.Errorf("keys rotate: %v\n%s", err, out)
	}
	p.stop(t)
	for _, cmd := range []string{"list", "reseal"} {
		out, err := run(t, true, bins.server, "keys", cmd, "--data-dir", dir, "--store", "etcd")
		if err == nil || !strings.Contains(out, "--store etcd") || !strings.Contains(out, "docs/scale-out.md") {
			t.Errorf("keys %s --store etcd: %v\n%s\nwant a refusal pointing to docs/scale-out.md", cmd, err, out)
		}
	}
	p = startServer(t, dir)
	c := newClient(t, p)
	created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
	secrets[created["token"].(map[string]any)["token_id"].(string)] = created["secret"]
	for id, want := range secrets {
		got := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens/"+id+":reveal", "", 200)
		if got["secret"] != want {
			t.Errorf("token %s revealed another secret after the rotation", id)
		}
	}
	p.stop(t)
}
