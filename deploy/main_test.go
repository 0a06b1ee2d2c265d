package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// dist is the release built once for the host's platform by TestMain,
// through the release program itself.
var dist string

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
	cmd := exec.Command("go", "run", "./deploy/release", "-out", dist, "-platforms", "linux/"+runtime.GOARCH)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go run ./deploy/release: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
