package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/cli"
	"tokenauthority/daemon"
	"tokenauthority/storage/bbolt"
)

// TestBackup saves the store of a real server with tokenctl backup, to a
// file and to stdout, and restores the file into a new server that finds
// the token.
func TestBackup(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.run(t, "workspace", "create", "acme").ok(t, "workspace create")
	s.run(t, "member", "add", "acme", "alice").ok(t, "member add")
	tok := s.run(t, "token", "create", "-w", "acme", "-u", "alice", "-d", "laptop", "--expires", "never", "-o", "json").json(t, "token create")
	id := tok["token"].(map[string]any)["token_id"].(string)

	dir := t.TempDir()
	file := filepath.Join(dir, "backup.db")
	// A file already there is replaced whole.
	if err := os.WriteFile(file, []byte("an older backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := s.run(t, "backup", file).ok(t, "backup")
	if !regexpMatch(`^Backed up [0-9.]+ KiB \([0-9]+ bytes\) to .*backup\.db in [0-9.]+[mµn]?s\.\n$`, out) {
		t.Errorf("backup printed %q; want size, file and duration", out)
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("backup mode %#o; want 0600", perm)
	}
	if err := bbolt.VerifyFile(file); err != nil {
		t.Errorf("the backup is not a store: %v", err)
	}
	assertOnly(t, dir, "backup.db")

	// -o json reports the same in fields.
	var summary struct {
		File     string  `json:"file"`
		Bytes    float64 `json:"bytes"`
		Duration string  `json:"duration"`
	}
	if err := json.Unmarshal([]byte(s.run(t, "backup", file, "-o", "json").ok(t, "backup -o json")), &summary); err != nil {
		t.Fatal(err)
	}
	if summary.File != file || summary.Bytes < 4096 || summary.Duration == "" {
		t.Errorf("backup -o json = %+v; want the file, its size and the duration", summary)
	}

	// "-" writes the snapshot to stdout and the summary to stderr.
	r := s.run(t, "backup", "-")
	r.ok(t, "backup -")
	if !strings.HasPrefix(r.stderr, "backed up ") || !strings.Contains(r.stderr, "to stdout") {
		t.Errorf("backup - stderr = %q; want the summary", r.stderr)
	}
	piped := filepath.Join(t.TempDir(), "piped.db")
	if err := os.WriteFile(piped, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bbolt.VerifyFile(piped); err != nil {
		t.Errorf("backup - wrote no store to stdout: %v", err)
	}

	// The file restores into a server that serves the token.
	restored := filepath.Join(t.TempDir(), "data")
	var restoreOut bytes.Buffer
	if err := daemon.Restore([]string{"--from", file, "--data-dir", restored}, func(string) string { return "" }, &restoreOut); err != nil {
		t.Fatalf("restore: %v\n%s", err, restoreOut.String())
	}
	s2 := startServer(t, nil, func(c *daemon.Config) {
		c.DataDir = restored
		c.MasterKeyFile = filepath.Join(s.dir, "master.key")
	})
	got := s2.run(t, "token", "list", "-w", "acme", "-o", "name").ok(t, "token list in the restored server")
	if got != id+"\n" {
		t.Errorf("tokens in the restored server: %q; want %q", got, id+"\n")
	}
}

// TestBackupRefused checks that a backup the server refuses, or that cannot
// be written, fails with its exit code and leaves no file behind.
func TestBackupRefused(t *testing.T) {
	t.Parallel()
	path, creds := credentialsFile(t)
	s := startServer(t, nil, func(c *daemon.Config) { c.CredentialsFile = path })
	dir := t.TempDir()
	file := filepath.Join(dir, "backup.db")
	tests := []struct {
		name string
		cred string
		file string
		code int
		want string
	}{
		{"validator", creds["validator"], file, cli.ExitPermission, "may not call"},
		{"unknown credential", "tkas_nobody", file, cli.ExitCredential, "not valid"},
		{"missing directory", creds["admin"], filepath.Join(dir, "missing", "backup.db"), cli.ExitError, "no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: tc.cred}, nil, "backup", tc.file)
			r.wantFailure(t, "backup as "+tc.name, tc.code, tc.want)
		})
	}
	runCLI(t, nil, map[string]string{cli.EnvAddr: s.addr}, nil, "backup").wantFailure(t, "backup without FILE", cli.ExitUsage, "FILE")
	assertOnly(t, dir)
}

// TestBackupClientCertificate takes a backup over mutual TLS with a client
// certificate bound to an admin credential and no bearer credential.
func TestBackupClientCertificate(t *testing.T) {
	t.Parallel()
	ms := startTLSServer(t, true)
	file := filepath.Join(t.TempDir(), "backup.db")
	r := runCLI(t, nil, map[string]string{cli.EnvAddr: ms.addr}, nil,
		"--tls-ca", ms.ca.CertFile, "--tls-cert", ms.bound.CertFile, "--tls-key", ms.bound.KeyFile, "backup", file)
	r.ok(t, "backup over mTLS")
	if err := bbolt.VerifyFile(file); err != nil {
		t.Errorf("the backup is not a store: %v", err)
	}
}

// assertOnly fails unless dir holds exactly names: no temporary file stays.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q; want %q", dir, got, names)
	}
}
