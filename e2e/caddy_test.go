package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// docSiteAddr is the site address docs/caddy/Caddyfile names; the test
// serves it as plain HTTP on a free loopback port instead, since a test
// can obtain no certificate.
const docSiteAddr = "models.example.com"

// TestCaddyForwardAuth puts Debian's Caddy, configured with the Caddyfile
// the gateway documentation shows, in front of a naive model server and
// tries every path and header trick through it: a private file is never
// served to an anonymous client or another workspace, whatever
// X-Original-*, X-Forwarded-* and identity headers the client sends, and
// plain requests still pass with the authority's identity only.
func TestCaddyForwardAuth(t *testing.T) {
	t.Parallel()
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		t.Fatalf("caddy is not installed (scripts/test installs Debian's caddy): %v", err)
	}
	p := startServer(t, t.TempDir())
	z := makeGatewayZoos(t, p)
	model, up := naiveModelServer(t)
	addr := startCaddy(t, caddy, p.httpAddr, model)
	t.Run("paths", func(t *testing.T) { checkGatewayPaths(t, addr, z) })
	t.Run("headers", func(t *testing.T) { checkGatewayHeaders(t, addr, up, z) })
}

// startCaddy runs Caddy with docs/caddy/Caddyfile, its three addresses
// replaced, behind global options that keep it off the network (no
// automatic HTTPS, no admin endpoint) with its state in a temporary
// directory. It returns the address Caddy listens on.
func startCaddy(t *testing.T, caddy, authorityAddr, upstreamAddr string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "caddy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	site := string(doc)
	for from, to := range map[string]string{docSiteAddr + " {": "http://" + listen + " {", docAuthorityAddr: authorityAddr, docUpstreamAddr: upstreamAddr} {
		if c := strings.Count(site, from); c != 1 {
			t.Fatalf("docs/caddy/Caddyfile names %s %d times; want once", from, c)
		}
		site = strings.Replace(site, from, to, 1)
	}
	dir := t.TempDir()
	global := fmt.Sprintf("{\n\tauto_https off\n\tadmin off\n\tstorage file_system %s\n}\n\n", filepath.Join(dir, "data"))
	conf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte(global+site), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	args := []string{"--config", conf, "--adapter", "caddyfile"}
	validate := exec.Command(caddy, append([]string{"validate"}, args...)...)
	validate.Env = env
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
	cmd := exec.Command(caddy, append([]string{"run"}, args...)...)
	cmd.Env = env
	runGateway(t, "caddy", cmd, syscall.SIGTERM, listen, nil)
	return listen
}
