package e2e_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"tokenauthority/internal/etcdtest"
)

// The e2e suite runs once more against an etcd cluster: TestSuiteOnEtcd
// starts a three-member cluster in its process and runs the test binary
// again with envEtcd naming it, so every server those tests start gets
// --store etcd on a prefix of its own.
const (
	envEtcd = "TOKENAUTHORITY_E2E_ETCD_ENDPOINTS"
	envBins = "TOKENAUTHORITY_E2E_BINS"
)

// etcdExcluded are the only tests that do not run on etcd, each with the
// reason. Every other test runs there, and a test added later does too.
var etcdExcluded = map[string]string{
	"TestSuiteOnEtcd":                 "it starts the run on etcd",
	"TestREADMEWalkthroughs":          "the README's two commands start the bbolt default, exactly as written",
	"TestSecondServerOnSameDirectory": "the one-process lock is the bbolt file's; replicas sharing an etcd store is the point of etcd",
	"TestTwoReplicasAsOneService":     "it starts its own cluster and two replicas on one prefix in the run on bbolt already",
	"TestBinaryOnSecuredEtcd":         "it starts its own cluster with mutual TLS and authentication in the run on bbolt already",
	"TestTracingOffByDefault":         "it listens on the OTLP default ports, which the run on bbolt holds at the same time; tracing does not depend on the store",
}

// onEtcd reports whether this is the run TestSuiteOnEtcd started, for the
// tests whose expectations differ on etcd (backup, offline key commands).
func onEtcd() bool { return os.Getenv(envEtcd) != "" }

// etcdArgs are the store flags of a server started on dataDir: none
// normally, and in the run on etcd --store etcd on a prefix of that data
// directory's own, so a server restarted on the same directory finds its
// state again.
func etcdArgs(dataDir string) []string {
	endpoints := os.Getenv(envEtcd)
	if endpoints == "" {
		return nil
	}
	prefix := fmt.Sprintf("/e2e/%x/", sha256.Sum256([]byte(dataDir)))
	return []string{"--store", "etcd", "--etcd-endpoints", endpoints, "--etcd-prefix", prefix}
}

func TestSuiteOnEtcd(t *testing.T) {
	if onEtcd() {
		t.Fatal("the run on etcd must skip TestSuiteOnEtcd") // etcdExcluded
	}
	list := exec.Command(os.Args[0], "-test.list", ".")
	list.Env = append(os.Environ(), envBins+"="+bins.dir)
	listed, err := list.Output()
	if err != nil {
		t.Fatalf("list the tests: %v", err)
	}
	var want, skip []string
	for _, name := range strings.Fields(string(listed)) {
		if !strings.HasPrefix(name, "Test") {
			continue
		}
		if _, ok := etcdExcluded[name]; ok {
			skip = append(skip, name)
			continue
		}
		want = append(want, name)
	}
	for name := range etcdExcluded {
		if !slices.Contains(skip, name) {
			t.Errorf("etcdExcluded names %s, which is not a test", name)
		}
	}
	if only := os.Getenv("TOKENAUTHORITY_E2E_ETCD_RUN"); only != "" {
		want = strings.Split(only, ",")
	}
	c := etcdtest.Start(t, etcdtest.Options{})
	cmd := exec.Command(os.Args[0], "-test.v", "-test.run", "^("+strings.Join(want, "|")+")$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), envEtcd+"="+strings.Join(c.Endpoints(), ","), envBins+"="+bins.dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("e2e tests with --store etcd: %v\n%s", err, out)
	}
	for _, name := range want {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("%s did not pass with --store etcd:\n%s", name, out)
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "--- ") || strings.Contains(line, "acknowledged tokens") {
			t.Log(line)
		}
	}
	t.Logf("%d e2e tests passed with --store etcd in %v (excluded: %d)", len(want), time.Since(start).Round(time.Millisecond), len(skip))
}
