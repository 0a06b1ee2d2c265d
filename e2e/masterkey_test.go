package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryRefusesWrongMasterKey runs the built server over a store of
// sealed secrets with a replaced and then a deleted key file: it must exit
// with a clear error each time (and create no key), and serve again with
// the original key, the token's secret still revealable.
func TestBinaryRefusesWrongMasterKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	c := newClient(t, p)
	c.members(t, "acme", "alice")
	created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
	id := created["token"].(map[string]any)["token_id"].(string)
	p.stop(t)

	keyFile := filepath.Join(dir, "master.key")
	original, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	serve := func() (string, error) {
		args := append([]string{"--data-dir", dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, etcdArgs(dir)...)
		return run(t, true, bins.server, args...)
	}
	if err := os.WriteFile(keyFile, []byte("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := serve()
	if err == nil || !strings.Contains(out, "master key cannot open the secrets in the store") {
		t.Errorf("start with another key: %v\n%s\nwant a refusal naming the master key", err, out)
	}
	if onEtcd() && (!strings.Contains(out, "etcd store under prefix /e2e/") || strings.Contains(out, "tokenauthority.db")) {
		t.Errorf("start with another key on etcd:\n%s\nwant the etcd prefix and endpoints named, not a bbolt file", out)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	out, err = serve()
	if err == nil || !strings.Contains(out, "master key missing") {
		t.Errorf("start without the key file: %v\n%s\nwant a refusal", err, out)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Errorf("a new key file was created over a store of sealed secrets")
	}
	if err := os.WriteFile(keyFile, original, 0o600); err != nil {
		t.Fatal(err)
	}
	p = startServer(t, dir)
	c = newClient(t, p)
	got := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens/"+id+":reveal", "", 200)
	if got["secret"] != created["secret"] {
		t.Errorf("revealed secret differs from the created one")
	}
	p.stop(t)
}
