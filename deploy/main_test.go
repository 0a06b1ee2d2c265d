package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	dist, helm = filepath.Join(tmp, "dist"), filepath.Join(tmp, "helm")
	for _, args := range [][]string{
		{"run", "./deploy/release", "-out", dist, "-platforms", "linux/" + runtime.GOARCH},
		{"build", "-modfile=tools/helm/go.mod", "-o", helm, "helm.sh/helm/v4/cmd/helm"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go %v: %v\n%s", args, err, out)
			return 1
		}
	}
	return m.Run()
}
