package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlock returns the first ```sh block after the heading in README.md.
func readmeBlock(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no heading %q", heading)
	}
	rest := readme[i:]
	start := strings.Index(rest, "\n```sh\n")
	if next := strings.Index(rest[1:], "\n## "); start < 0 || (next >= 0 && start > next) {
		t.Fatalf("README.md: no sh block under %q", heading)
	}
	rest = rest[start+len("\n```sh\n"):]
	end := strings.Index(rest, "\n```\n")
	if end < 0 {
		t.Fatalf("README.md: unterminated sh block under %q", heading)
	}
	return rest[:end+1]
}

// TestREADMEWalkthroughs runs the README's three walkthroughs as written, in
// order, on one server, from a directory whose data/ is the server's: only
// the default addresses are replaced by the test server's free ports. Each
// runs under set -euo pipefail, so any failing step fails the test.
func TestREADMEWalkthroughs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	work := t.TempDir()
	p := startServer(t, filepath.Join(work, "data"))
	// REST goes through a proxy that checks each exchange against /openapi.json.
	ports := strings.NewReplacer("http://127.0.0.1:8080", "http://"+openapiProxy(t, p), "127.0.0.1:50051", p.grpcAddr)

	walkthroughs := []struct {
		heading string
		want    []string // regular expressions the output must match, in order
	}{
		{"## Walkthrough with grpcurl", []string{`"valid": true`, `"allowed": true`, `"secret": "tka_`, `REASON_REVOKED`, `"status": "SERVING"`}},
		{"## Walkthrough with curl", []string{`"valid": ?true`, `"allowed": ?true`, `"user": ?"alice"`, `"value": ?"tka_`, `tokenauthority_`, `"state": ?"TOKEN_STATE_REVOKED"`, `REASON_REVOKED`, `"revoke_reason": ?"REVOKE_REASON_ADMIN"`}},
		{"## Walkthrough with tokenctl", []string{
			`Zoo:\s+acme-cli/detectors\s+Visibility:\s+private`, `(?m)^tka_[0-9A-Za-z]{49}$`, `not shown again`,
			`tka_\.\.\.\S{4}\s+laptop\s+alice\s+\S+ \(now\)\s+\S+ \(in 29 days\)\s+active`,
			`Valid:\s+yes`, `Allowed:\s+yes`, `REASON_ZOO_NOT_FOUND`, `exit 8`, `Description:\s+laptop`,
			`"masked_key": "tka_`, `Backed up [0-9.]+ KiB \([0-9]+ bytes\) to backup-cli\.db in `, `Revoked token`, `REASON_REVOKED`, `exit 7`}},
	}
	for _, w := range walkthroughs {
		script := "set -euo pipefail\n" + ports.Replace(readmeBlock(t, readme, w.heading))
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = work
		cmd.Env = walkthroughEnv(p)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", w.heading, err, out.String())
		}
		rest := out.String()
		for _, re := range w.want {
			loc := regexp.MustCompile(re).FindStringIndex(rest)
			if loc == nil {
				t.Errorf("%s: output does not match %s (after the previous expectations):\n%s", w.heading, re, out.String())
				break
			}
			rest = rest[loc[1]:]
		}
		if regexp.MustCompile(`already exists|"code": ?6\b`).MatchString(out.String()) {
			t.Errorf("%s: a step collided with an earlier walkthrough:\n%s", w.heading, out.String())
		}
	}
}

// walkthroughEnv is the process environment without any TOKENAUTHORITY_
// variable, with the built binaries first on PATH and tokenctl pointed at
// the test server (the README relies on its default address).
func walkthroughEnv(p *proc) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TOKENAUTHORITY_") || strings.HasPrefix(kv, "PATH=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PATH="+bins.dir+string(os.PathListSeparator)+os.Getenv("PATH"), "TOKENAUTHORITY_ADDR="+p.grpcAddr)
}
