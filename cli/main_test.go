package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tokenauthority/cli"
	"tokenauthority/daemon"
)

// fixedNow is the clock of the golden tests, for the server and tokenctl.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// server is an in-process tokenauthority on free loopback ports.
type server struct {
	addr  string
	admin string // the bootstrap admin credential
	dir   string
	d     *daemon.Daemon
}

// startServer starts a daemon with a fresh data directory; now, when not
// nil, is its clock.
func startServer(t *testing.T, now func() time.Time, edit ...func(*daemon.Config)) *server {
	t.Helper()
	cfg := daemon.Defaults()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Now = now
	for _, e := range edit {
		e(&cfg)
	}
	d, err := daemon.Start(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("shut down server: %v", err)
		}
	})
	s := &server{addr: d.GRPCAddr.String(), dir: cfg.DataDir, d: d}
	if cfg.CredentialsFile == "" {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin.credential"))
		if err != nil {
			t.Fatalf("read admin credential: %v", err)
		}
		s.admin = strings.TrimSpace(string(b))
	}
	return s
}

// result is what one run of tokenctl produced.
type result struct {
	stdout, stderr string
	code           int
}

// invocation describes one run: the environment beyond the server address
// and the admin credential.
type invocation struct {
	stdin io.Reader
	env   map[string]string
	now   func() time.Time
}

// run runs tokenctl against s as the admin, with args.
func (s *server) run(t *testing.T, args ...string) result {
	t.Helper()
	return s.runWith(t, invocation{}, args...)
}

func (s *server) runWith(t *testing.T, inv invocation, args ...string) result {
	t.Helper()
	env := map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: s.admin}
	for k, v := range inv.env {
		env[k] = v
	}
	return runCLI(t, inv.stdin, env, inv.now, args...)
}

// runCLI runs tokenctl in-process with exactly env as its environment.
func runCLI(t *testing.T, stdin io.Reader, env map[string]string, now func() time.Time, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), cli.Env{
		Args:   args,
		Stdin:  stdin,
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		Now:    now,
	})
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ok fails the test unless r exited 0, and returns its stdout.
func (r result) ok(t *testing.T, what string) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// json decodes stdout as a JSON object.
func (r result) json(t *testing.T, what string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.ok(t, what)), &m); err != nil {
		t.Fatalf("%s: stdout is not a JSON object: %v\n%s", what, err, r.stdout)
	}
	return m
}

// wantFailure fails the test unless r exited with code and printed exactly
// one line on stderr containing each of want.
func (r result) wantFailure(t *testing.T, what string, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d; want %d\nstdout: %s\nstderr: %s", what, r.code, code, r.stdout, r.stderr)
		return
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "tokenctl: ") {
		t.Errorf("%s: stderr = %q; want one line starting with \"tokenctl: \"", what, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: stderr = %q; want it to contain %q", what, r.stderr, w)
		}
	}
}

// credentialsFile writes a credentials file with one credential per role
// and returns its path and the credentials by role.
func credentialsFile(t *testing.T) (string, map[string]string) {
	t.Helper()
	creds := map[string]string{"admin": "tkas_test-admin", "validator": "tkas_test-validator"}
	type entry struct {
		Name   string `json:"name"`
		Role   string `json:"role"`
		SHA256 string `json:"sha256"`
	}
	var file struct {
		Credentials []entry `json:"credentials"`
	}
	for role, c := range creds {
		sum := sha256.Sum256([]byte(c))
		file.Credentials = append(file.Credentials, entry{Name: role + "-test", Role: role, SHA256: hex.EncodeToString(sum[:])})
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, creds
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
