package deploy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"tokenauthority/daemon"
)

const unitFile = "systemd/tokenauthority.service"

// systemdAnalyze is Debian's systemd-analyze (package systemd).
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze not found (apt-get install systemd; scripts/test does): %v", err)
	}
	return p
}

// unit reads the unit file as its [Service] directives (key -> values) and
// its ExecStart arguments, continuation lines joined.
func unit(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			keys[k] = append(keys[k], v)
		}
	}
	return keys, strings.Fields(keys["ExecStart"][0])
}

func TestSystemdUnitDirectives(t *testing.T) {
	t.Parallel()
	keys, _ := unit(t)
	want := map[string]string{
		"DynamicUser":             "yes",
		"StateDirectory":          "tokenauthority",
		"ProtectSystem":           "strict",
		"NoNewPrivileges":         "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"MemoryDenyWriteExecute":  "yes",
		"LockPersonality":         "yes",
		"SystemCallFilter":        "@system-service",
		"LoadCredential":          "master.key:/etc/tokenauthority/master.key",
	}
	for k, v := range want {
		t.Run(k, func(t *testing.T) {
			t.Parallel()
			found := false
			for _, got := range keys[k] {
				found = found || got == v
			}
			if !found {
				t.Errorf("%s=%s missing; the unit has %s=%q", k, v, k, keys[k])
			}
		})
	}
}

// TestSystemdVerify: systemd-analyze verify reports nothing, not even a
// warning (it exits 0 on an unknown directive). The copy differs only in
// ExecStart's path, which verify requires to exist.
func TestSystemdVerify(t *testing.T) {
	t.Parallel()
	sa := systemdAnalyze(t)
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dist, "tokenauthority-linux-"+runtime.GOARCH)
	copy := filepath.Join(t.TempDir(), "tokenauthority.service")
	if err := os.WriteFile(copy, bytes.ReplaceAll(b, []byte("/usr/local/bin/tokenauthority"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", copy).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// exposure runs systemd-analyze security --offline=yes on a unit file and
// returns its overall exposure level (0 to 10, lower is safer).
func exposure(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command(systemdAnalyze(t), "security", "--offline=yes", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security --offline=yes %s: %v\n%s", path, err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSystemdExposure holds the unit to an exposure of at most 2.0, and
// shows the measure can fail: the same unit with its hardening removed
// scores far worse.
func TestSystemdExposure(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	got := exposure(t, abs)
	t.Logf("systemd-analyze security --offline=yes %s: %.1f", unitFile, got)
	if got > 2.0 {
		t.Errorf("exposure of %s = %.1f; want at most 2.0", unitFile, got)
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	var bare []string
	for _, line := range strings.Split(string(b), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, " ") &&
			!map[string]bool{"Type": true, "ExecStart": true, "Description": true, "WantedBy": true, "DynamicUser": true}[k] {
			continue
		}
		bare = append(bare, line)
	}
	path := filepath.Join(t.TempDir(), "bare.service")
	if err := os.WriteFile(path, []byte(strings.Join(bare, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	bareExposure := exposure(t, path)
	t.Logf("the same unit without hardening: %.1f", bareExposure)
	if got := bareExposure; got <= 5.0 {
		t.Errorf("exposure of the unit without its hardening = %.1f; want above 5 (is the measure working?)", got)
	}
}

// TestSystemdCredentials runs the unit's ExecStart the way systemd would:
// %d is a credentials directory holding master.key and credentials.json
// as LoadCredential= leaves them (mode 0400), %S the state directory root.
// The server must start with both, create neither a key nor a bootstrap
// credential of its own, and answer /readyz.
func TestSystemdCredentials(t *testing.T) {
	t.Parallel()
	_, args := unit(t)
	creds, state := t.TempDir(), t.TempDir()
	secret := "tokenauthority-test-admin"
	sum := sha256.Sum256([]byte(secret))
	for name, body := range map[string]string{
		"master.key":       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"credentials.json": fmt.Sprintf(`{"credentials": [{"name": "ops", "role": "admin", "sha256": %q}]}`, hex.EncodeToString(sum[:])),
	} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(body), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	r := strings.NewReplacer("%d", creds, "%S", state)
	for i := range args {
		args[i] = r.Replace(args[i])
	}
	if err := os.Mkdir(filepath.Join(state, "tokenauthority"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The flags are the server's own.
	cfg, err := daemon.ParseConfig(args[1:], func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("the unit's ExecStart flags: %v", err)
	}
	if cfg.MasterKeyFile != filepath.Join(creds, "master.key") || cfg.CredentialsFile != filepath.Join(creds, "credentials.json") {
		t.Fatalf("master key file %q, credentials file %q; want them in the credentials directory", cfg.MasterKeyFile, cfg.CredentialsFile)
	}

	cmd := exec.Command(filepath.Join(dist, "tokenauthority-linux-"+runtime.GOARCH), args[1:]...)
	cmd.Env = append(os.Environ(), "CREDENTIALS_DIRECTORY="+creds, "TOKENAUTHORITY_LOG_FORMAT=json",
		"TOKENAUTHORITY_GRPC_ADDR=127.0.0.1:0", "TOKENAUTHORITY_HTTP_ADDR=127.0.0.1:0")
	serveAndStop(t, cmd, "/readyz")
	for _, name := range []string{"master.key", "admin.credential"} {
		if _, err := os.Stat(filepath.Join(state, "tokenauthority", name)); err == nil {
			t.Errorf("the server wrote %s into its state directory; want the credentials' one used", name)
		}
	}
}
