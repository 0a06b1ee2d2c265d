package e2e_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	c.members(t, "acme", "alice")
	created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"backed up"}`, 200)
	secret := created["secret"].(string)

	backup := filepath.Join(t.TempDir(), "backup.db")
	url := "http://" + openapiProxy(t, p) + "/v1/admin/backup" // checked against /openapi.json
	if onEtcd() {
		// An etcd store is backed up with etcd's own snapshot; the
		// endpoint says so instead of streaming anything.
		out, _ := run(t, true, "curl", "-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer "+p.admin, "-o", "/dev/stdout", url)
		if !strings.HasSuffix(out, "\n501") || !strings.Contains(out, "etcdctl snapshot save") {
			t.Errorf("GET /v1/admin/backup on etcd:\n%s\nwant 501 Not Implemented naming etcdctl snapshot save", out)
		}
		return
	}
	run(t, false, "curl", "-sS", "--fail-with-body", "-H", "Authorization: Bearer "+p.admin, "-o", backup, url)

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

// TestBackupRestoreTokenctl backs up a server holding tokens with "tokenctl
// backup" over gRPC, restores the file with "tokenauthority restore", and
// finds every token, valid, in the restored server.
func TestBackupRestoreTokenctl(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	mustCtl := func(p *proc, args ...string) string {
		t.Helper()
		out, code := tokenctl(t, p, p.admin, args...)
		if code != 0 {
			t.Fatalf("tokenctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	mustCtl(p, "workspace", "create", "acme")
	mustCtl(p, "member", "add", "acme", "alice")
	const n = 20
	secrets := make([]string, n)
	for i := range secrets {
		// The secret is stdout's one line; the combined output goes on
		// with tokenctl's note on stderr.
		out := mustCtl(p, "token", "create", "--workspace", "acme", "--user", "alice", "--description", fmt.Sprintf("token %d", i), "--expires", "never")
		secrets[i], _, _ = strings.Cut(out, "\n")
	}
	ids := mustCtl(p, "token", "list", "--workspace", "acme", "-o", "name")

	backup := filepath.Join(t.TempDir(), "acme.db")
	if onEtcd() {
		out, code := tokenctl(t, p, p.admin, "backup", backup)
		if code == 0 || !strings.Contains(out, "etcdctl snapshot save") {
			t.Errorf("tokenctl backup on etcd: exit %d\n%s\nwant a failure naming etcdctl snapshot save", code, out)
		}
		if _, err := os.Stat(backup); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("tokenctl backup on etcd left %s behind: %v", backup, err)
		}
		return
	}
	out := mustCtl(p, "backup", backup)
	if !regexp.MustCompile(`^Backed up [0-9.]+ [KMG]iB \([0-9]+ bytes\) to .*acme\.db in [0-9.]+[mµn]?s\.\n$`).MatchString(out) {
		t.Errorf("tokenctl backup printed %q; want the size, the file and the duration", out)
	}
	info, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("backup file mode %#o; want 0600", perm)
	}

	restored := t.TempDir()
	run(t, false, bins.server, "restore", "--from", backup, "--data-dir", restored)
	p2 := startServer(t, restored, "--master-key-file", filepath.Join(dir, "master.key"))
	if got := mustCtl(p2, "token", "list", "--workspace", "acme", "-o", "name"); got != ids || strings.Count(got, "\n") != n {
		t.Errorf("tokens in the restored server:\n%s\nwant the %d of the backed-up one:\n%s", got, n, ids)
	}
	for i, s := range secrets {
		if out, code := tokenctl(t, p2, p2.admin, "token", "check", s); code != 0 {
			t.Errorf("token %d in the restored server: exit %d\n%s", i, code, out)
		}
	}
}
