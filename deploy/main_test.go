package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Built once by TestMain: dist is the release for the host's platform,
// made by the release program itself; helm is the helm pinned in
// tools/helm/go.mod.
var dist, helm string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "deploy-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	dist = filepath.Join(tmp, "dist")
	release := exec.Command("go", "run", "./deploy/release", "-out", dist, "-platforms", "linux/"+runtime.GOARCH)
	release.Dir = ".."
	if out, err := release.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go run ./deploy/release: %v\n%s", err, out)
		return 1
	}
	// go tool -n builds helm once into the build cache and names the
	// executable, which later runs reuse without linking it again.
	tool := exec.Command("go", "tool", "-modfile=tools/helm/go.mod", "-n", "helm")
	tool.Dir, tool.Stderr = "..", os.Stderr
	out, err := tool.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go tool -modfile=tools/helm/go.mod -n helm: %v\n", err)
		return 1
	}
	helm = strings.TrimSpace(string(out))
	return m.Run()
}
