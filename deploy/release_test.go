package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"tokenauthority/deploy/build"
)

// TestReleaseSums: SHA256SUMS lists both binaries and sha256sum -c accepts it.
func TestReleaseSums(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, prog := range []string{"tokenauthority", "tokenctl"} {
		if name := prog + "-linux-" + runtime.GOARCH; !strings.Contains(string(b), "  "+name+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", name, b)
		}
	}
	cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	cmd.Dir = dist
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum --check: %v\n%s", err, out)
	}
}

// TestReleaseVersion: both binaries carry the version of the tree and its
// commit, whatever -buildvcs the environment asks for.
func TestReleaseVersion(t *testing.T) {
	t.Parallel()
	want, err := build.Version(context.Background(), "..")
	if err != nil {
		t.Fatal(err)
	}
	commit, _ := build.Commit(context.Background(), "..")
	for _, prog := range []string{"tokenauthority", "tokenctl"} {
		t.Run(prog, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(filepath.Join(dist, prog+"-linux-"+runtime.GOARCH), "--version").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --version: %v\n%s", prog, err, out)
			}
			if p := prog + " " + want + " (commit " + commit; !strings.HasPrefix(string(out), p) {
				t.Errorf("%s --version = %q; want it to start %q", prog, out, p)
			}
		})
	}
}

// TestChartAppVersion: the chart runs the image of the newest release.
func TestChartAppVersion(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	release, err := build.ChangelogRelease(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(chart, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.AppVersion != release {
		t.Errorf("Chart.yaml appVersion = %q; want CHANGELOG.md's newest release %q", c.AppVersion, release)
	}
	if _, err := os.Stat(filepath.Join("..", "api", "releases", release+".binpb")); err != nil {
		t.Errorf("the API of release %s is not recorded for buf breaking: %v", release, err)
	}
}
