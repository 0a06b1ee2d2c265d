package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/cli"
	"tokenauthority/daemon"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestErrorClasses checks the one-line message and the exit code of every
// class of failure.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	credFile, creds := credentialsFile(t)
	s := startServer(t, nil, func(c *daemon.Config) { c.CredentialsFile = credFile })
	admin := map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: creds["admin"]}
	if r := runCLI(t, nil, admin, nil, "workspace", "create", "acme"); r.code != 0 {
		t.Fatalf("workspace create: exit %d: %s", r.code, r.stderr)
	}
	emptyFile := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	goodFile := filepath.Join(t.TempDir(), "admin.credential")
	if err := os.WriteFile(goodFile, []byte(creds["admin"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"unreachable server", map[string]string{cli.EnvAddr: closedAddr(t), cli.EnvCredential: "x"}, []string{"workspace", "list"},
			cli.ExitUnreachable, []string{"cannot reach tokenauthority at 127.0.0.1:", "connection refused"}},
		{"no credential", map[string]string{cli.EnvAddr: s.addr}, []string{"workspace", "list"},
			cli.ExitCredential, []string{"no service credential", cli.EnvCredential}},
		{"wrong credential", map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: "tkas_wrong"}, []string{"workspace", "list"},
			cli.ExitCredential, []string{"the service credential is not valid"}},
		{"missing credential file", map[string]string{cli.EnvAddr: s.addr}, []string{"--credential-file", "/nonexistent/admin.credential", "workspace", "list"},
			cli.ExitCredential, []string{"/nonexistent/admin.credential"}},
		{"empty credential file", map[string]string{cli.EnvAddr: s.addr}, []string{"--credential-file", emptyFile, "workspace", "list"},
			cli.ExitCredential, []string{"is empty"}},
		{"validator may not list workspaces", map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: creds["validator"]}, []string{"workspace", "list"},
			cli.ExitPermission, []string{"role validator"}},
		{"not found", admin, []string{"zoo", "get", "acme/nothing"}, cli.ExitNotFound, []string{"nothing"}},
		{"server refuses a field", admin, []string{"workspace", "create", "Not_Valid"}, cli.ExitUsage, []string{"workspace_id"}},
		{"already exists", admin, []string{"workspace", "create", "acme"}, cli.ExitError, []string{"acme"}},
		{"unknown command", admin, []string{"frobnicate"}, cli.ExitUsage, []string{"unknown command"}},
		{"missing argument", admin, []string{"member", "add", "acme"}, cli.ExitUsage, []string{"WS USER"}},
		{"bad zoo name", admin, []string{"zoo", "get", "acme"}, cli.ExitUsage, []string{"WORKSPACE/ZOO"}},
		{"bad expiry", admin, []string{"token", "create", "-w", "acme", "-u", "a", "--expires", "soon"}, cli.ExitUsage, []string{"2027-12-31T00:00:00Z"}},
		{"bad output format", admin, []string{"workspace", "list", "-o", "xml"}, cli.ExitUsage, []string{"table, json, yaml or name"}},
		{"bad flag", admin, []string{"workspace", "list", "--nope"}, cli.ExitUsage, []string{"--nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runCLI(t, nil, tt.env, nil, tt.args...).wantFailure(t, tt.name, tt.code, tt.want...)
		})
	}

	t.Run("credential file", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, nil, map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: "tkas_wrong"}, nil, "--credential-file", goodFile, "workspace", "get", "acme")
		if r.code != 0 {
			t.Errorf("--credential-file wins over the variable: exit %d, %s", r.code, r.stderr)
		}
		r = runCLI(t, nil, map[string]string{cli.EnvCredential: "tkas_wrong"}, nil, "--addr", s.addr, "--credential", creds["admin"], "workspace", "get", "acme")
		if r.code != 0 {
			t.Errorf("--credential and --addr: exit %d, %s", r.code, r.stderr)
		}
	})
}

// TestServerThatDoesNotAnswer: a listener that accepts connections but never
// speaks gRPC makes the call run into --timeout.
func TestServerThatDoesNotAnswer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	env := map[string]string{cli.EnvAddr: l.Addr().String(), cli.EnvCredential: "x"}
	runCLI(t, nil, env, nil, "--timeout", "300ms", "workspace", "list").
		wantFailure(t, "silent server", cli.ExitUnreachable, "did not answer within 300ms")
}

// TestVersionAndCompletion checks the commands that need no server.
func TestVersionAndCompletion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, nil, nil, "--version")
	if r.code != 0 || !regexpMatch(`^tokenctl \S+ \(commit \S+, date \S+, go\S+\)\n$`, r.stdout) {
		t.Errorf("--version = exit %d, %q", r.code, r.stdout)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runCLI(t, nil, nil, nil, "completion", sh)
		if r.code != 0 || !regexpMatch(`tokenctl`, r.stdout) || len(r.stdout) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", sh, r.code, len(r.stdout), r.stderr)
		}
	}
}

// TestCompletionAsksTheServer: completing ids lists them from the server.
func TestCompletionAsksTheServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.run(t, "workspace", "create", "acme").ok(t, "workspace create")
	s.run(t, "workspace", "create", "globex").ok(t, "workspace create")
	s.run(t, "zoo", "create", "acme/detectors", "--visibility", "public").ok(t, "zoo create")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "workspace", "get", ""}, []string{"acme", "globex"}},
		{[]string{"__complete", "token", "list", "--workspace", ""}, []string{"acme", "globex"}},
		{[]string{"__complete", "zoo", "get", ""}, []string{"acme/", "globex/"}},
		{[]string{"__complete", "zoo", "get", "acme/"}, []string{"acme/detectors"}},
		{[]string{"__complete", "access", "check", "--operation", ""}, []string{"download", "cloud-inference"}},
	}
	for _, tt := range tests {
		out := s.run(t, tt.args...).ok(t, strings.Join(tt.args, " "))
		lines := strings.Split(strings.TrimSpace(out), "\n")
		got := lines[:len(lines)-1] // the last line is cobra's directive, ":4"
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("tokenctl %v: completions differ (-want +got):\n%s", tt.args, diff)
		}
	}
}
