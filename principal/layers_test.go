package principal_test

import (
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayers holds the import rule this package exists for: it is a leaf
// (nothing of the module below it), and the page and the REST facade get
// who is calling from here, never by importing the services (which would
// pull in the stores and the index). It reads the real import graph from
// `go list -deps`, test files excluded.
func TestLayers(t *testing.T) {
	t.Parallel()
	const module = "tokenauthority/"
	tests := []struct {
		pkg string
		// allowed says whether pkg may depend on a package of the module.
		allowed func(dep string) bool
		rule    string
	}{
		{"tokenauthority/principal", func(dep string) bool { return dep == "tokenauthority/principal" }, "imports no package of the module"},
		{"tokenauthority/ui", func(dep string) bool { return dep != "tokenauthority/server" }, "does not depend on tokenauthority/server"},
		{"tokenauthority/server/rest", func(dep string) bool { return dep != "tokenauthority/server" }, "does not depend on tokenauthority/server"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			t.Parallel()
			deps := listDeps(t, tt.pkg)
			if !slices.Contains(deps, tt.pkg) {
				t.Fatalf("go list -deps %s does not list the package itself: %q", tt.pkg, deps)
			}
			for _, dep := range deps {
				if strings.HasPrefix(dep, module) && !tt.allowed(dep) {
					t.Errorf("%s depends on %s; the rule is that it %s", tt.pkg, dep, tt.rule)
				}
			}
		})
	}
}

// listDeps returns the import paths pkg depends on, itself included. `go
// test` puts its own go command first on PATH.
func listDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the import rule needs the go command: %v", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
