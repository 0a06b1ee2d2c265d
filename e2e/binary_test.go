package e2e_test

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestVersionFlags(t *testing.T) {
	t.Parallel()
	for name, bin := range map[string]string{"tokenauthority": bins.server, "tokenctl": bins.tokenctl} {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Errorf("%s --version: %v\n%s", name, err, out)
			continue
		}
		if !regexp.MustCompile(`^` + name + ` \S+ \(commit \S+, date \S+, go\S+\)\n$`).Match(out) {
			t.Errorf("%s --version = %q", name, out)
		}
	}
}

func TestServerHelpNamesEnvironment(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(bins.server, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("tokenauthority --help: %v\n%s", err, out)
	}
	for _, want := range []string{"TOKENAUTHORITY_DATA_DIR", "TOKENAUTHORITY_GRPC_ADDR", "TOKENAUTHORITY_HTTP_ADDR", "TOKENAUTHORITY_CREDENTIALS_FILE", "-version"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tokenauthority --help does not mention %s:\n%s", want, out)
		}
	}
}

// TestSecondServerOnSameDirectory: one clear line, and nothing else.
func TestSecondServerOnSameDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startServer(t, dir)
	cmd := exec.Command(bins.server, "--data-dir", dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("a second server started on a directory in use")
	}
	if want := "tokenauthority: another tokenauthority is using " + dir + "\n"; stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("second server printed stdout %q, stderr %q; want only %q", stdout.String(), stderr.String(), want)
	}
}
