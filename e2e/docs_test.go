package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/authz"
)

// TestGatewayDocsShowTestedCode checks that docs/gateways.md shows exactly
// the nginx configuration TestNginxAuthRequest runs, the Caddyfile
// TestCaddyForwardAuth runs, the default path rules, and the middleware
// example that compiles in package client.
func TestGatewayDocsShowTestedCode(t *testing.T) {
	t.Parallel()
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	doc := read("docs/gateways.md")
	nginx := read("docs/nginx/tokenauthority.conf")
	if !strings.Contains(doc, "```nginx\n"+nginx+"```\n") {
		t.Error("docs/gateways.md does not show docs/nginx/tokenauthority.conf verbatim in an nginx block")
	}
	caddy := read("docs/caddy/Caddyfile")
	if !strings.Contains(doc, "```caddyfile\n"+caddy+"```\n") {
		t.Error("docs/gateways.md does not show docs/caddy/Caddyfile verbatim in a caddyfile block")
	}
	if !strings.Contains(doc, "```\n"+authz.DefaultRules+"```\n") {
		t.Error("docs/gateways.md does not show authz.DefaultRules verbatim")
	}
	example := read("client/example_test.go")
	_, rest, ok := strings.Cut(example, "// begin middleware example\n")
	body, _, ok2 := strings.Cut(rest, "\t// end middleware example")
	if !ok || !ok2 {
		t.Fatal("client/example_test.go lost its begin/end middleware example markers")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	if snippet := strings.Join(lines, "\n") + "\n"; !strings.Contains(doc, "```go\n"+snippet+"```\n") {
		t.Errorf("docs/gateways.md does not show the middleware example of client/example_test.go:\n%s", snippet)
	}
	if !strings.Contains(read("README.md"), "(docs/gateways.md)") {
		t.Error("README.md does not link docs/gateways.md")
	}
}
