package e2e_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"tokenauthority/internal/etcdtest"
)

// The walkthroughs run once more against an etcd cluster: this test starts
// a three-member cluster in its process and runs the test binary again
// with envEtcd naming it, so every server those tests start gets
// --store etcd on a prefix of its own.
const (
	envEtcd = "TOKENAUTHORITY_E2E_ETCD_ENDPOINTS"
	envBins = "TOKENAUTHORITY_E2E_BINS"
)

// etcdWalkthroughs are the tests that run on etcd: every walkthrough of the
// API, REST, SDK and gateway paths. Left out are the tests of the bbolt
// file itself (kill -9 of the file, backup and restore, offline key
// rotation, a second server on one directory, the README's two commands)
// and the graceful shutdown under load, whose minimum of acknowledged
// writes is set for bbolt's group commit, not etcd round trips.
var etcdWalkthroughs = []string{
	"TestGRPCurlWalkthrough", "TestCurlWalkthrough", "TestSDKProtocol", "TestEnvoyCheckWithGRPCurl",
	"TestNginxAuthRequest", "TestLastUsedWrittenInBackground", "TestMutualTLSBinary",
	"TestBinaryRefusesWrongMasterKey",
}

// etcdArgs are the store flags of a server started by startServer on
// dataDir: none normally, and in the run TestWalkthroughsOnEtcd starts,
// --store etcd on a prefix of that data directory's own, so a server
// restarted on the same directory finds its state again.
func etcdArgs(dataDir string) []string {
	endpoints := os.Getenv(envEtcd)
	if endpoints == "" {
		return nil
	}
	prefix := fmt.Sprintf("/e2e/%x/", sha256.Sum256([]byte(dataDir)))
	return []string{"--store", "etcd", "--etcd-endpoints", endpoints, "--etcd-prefix", prefix}
}

func TestWalkthroughsOnEtcd(t *testing.T) {
	if os.Getenv(envEtcd) != "" {
		return // already the run on etcd
	}
	c := etcdtest.Start(t, etcdtest.Options{})
	run := etcdWalkthroughs
	if only := os.Getenv("TOKENAUTHORITY_E2E_ETCD_RUN"); only != "" {
		run = strings.Split(only, ",")
	}
	cmd := exec.Command(os.Args[0], "-test.v", "-test.run", "^("+strings.Join(run, "|")+")$", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), envEtcd+"="+strings.Join(c.Endpoints(), ","), envBins+"="+bins.dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthroughs with --store etcd: %v\n%s", err, out)
	}
	for _, name := range run {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("%s did not pass with --store etcd:\n%s", name, out)
		}
	}
	t.Logf("%d walkthroughs passed with --store etcd in %v", len(run), time.Since(start).Round(time.Millisecond))
}
