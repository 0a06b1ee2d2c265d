package e2e_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestoreBinary takes a backup with curl from the running binary,
// restores it with "tokenauthority restore" (refused over the live data
// directory), and serves the restored store with the original master key.
func TestBackupRestoreBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	c := newClient(t, p)
	c.mustJSON(t, "POST", "/v1/workspaces", `{"workspace_id":"acme"}`, 200)
	c.mustJSON(t, "POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, 200)
	created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"backed up"}`, 200)
	secret := created["secret"].(string)

	backup := filepath.Join(t.TempDir(), "backup.db")
	run(t, false, "curl", "-sS", "--fail-with-body", "-H", "Authorization: Bearer "+p.admin, "-o", backup, "http://"+p.httpAddr+"/v1/admin/backup")

	out, err := run(t, true, bins.server, "restore", "--from", backup, "--data-dir", dir)
	if err == nil || !strings.Contains(out, "exists") {
		t.Errorf("restore over the live data directory: %v\n%s; want a refusal saying the store exists", err, out)
	}
	restored := t.TempDir()
	run(t, false, bins.server, "restore", "--from", backup, "--data-dir", restored)

	p2 := startServer(t, restored, "--master-key-file", filepath.Join(dir, "master.key"))
	c2 := newClient(t, p2)
	v := c2.mustJSON(t, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, 200)
	if v["valid"] != true {
		t.Errorf("the backed-up token in the restored server: %v", v)
	}
	id := created["token"].(map[string]any)["token_id"].(string)
	r := c2.mustJSON(t, "POST", "/v1/workspaces/acme/tokens/"+id+":reveal", `{}`, 200)
	if r["secret"] != secret {
		t.Error("reveal in the restored server did not return the original secret")
	}
}
