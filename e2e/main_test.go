package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bins holds the binaries TestMain builds.
var bins struct{ dir, server, grpcurl, tokenctl string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokenauthority-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if prebuilt := os.Getenv(envBins); prebuilt != "" {
			// A run started by TestSuiteOnEtcd: the parent built them.
			dir = prebuilt
		}
		bins.server = filepath.Join(dir, "tokenauthority")
		bins.grpcurl = filepath.Join(dir, "grpcurl")
		bins.tokenctl = filepath.Join(dir, "tokenctl")
		bins.dir = dir
		if os.Getenv(envBins) != "" {
			return m.Run()
		}
		builds := [][]string{
			{"build", "-o", bins.server, "./cmd/tokenauthority"},
			{"build", "-o", bins.tokenctl, "./cmd/tokenctl"},
			{"build", "-modfile=tools/go.mod", "-o", bins.grpcurl, "github.com/fullstorydev/grpcurl/cmd/grpcurl"},
		}
		for _, args := range builds {
			cmd := exec.Command("go", args...)
			cmd.Dir = ".."
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go %s: %v\n%s", strings.Join(args, " "), err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// proc is a running tokenauthority process.
type proc struct {
	cmd      *exec.Cmd
	dataDir  string
	grpcAddr string
	httpAddr string
	admin    string // the bootstrap admin credential
	logs     *logBuffer
	done     chan struct{}
}

// startServer runs the binary on free loopback ports with dataDir and waits
// until it logs that it serves.
func startServer(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	return startServerEnv(t, nil, dataDir, extra...)
}

// startServerEnv is startServer with env (KEY=value) added to the
// test's environment, less any OTEL_* variable of the test's own: tracing
// is on only where a test asks for it.
func startServerEnv(t *testing.T, env []string, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"}, extra...)
	args = append(args, etcdArgs(dataDir)...)
	cmd := exec.Command(bins.server, args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OTEL_") })
	cmd.Env = append(append(cmd.Env, env...), "TOKENAUTHORITY_DATA_DIR="+dataDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, dataDir: dataDir, logs: &logBuffer{}, done: make(chan struct{})}
	ready := make(chan map[string]any, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			p.logs.Write(append(line, '\n'))
			var rec map[string]any
			if json.Unmarshal(line, &rec) == nil && rec["msg"] == "tokenauthority serving" {
				ready <- rec
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case rec := <-ready:
		p.grpcAddr, _ = rec["grpc_addr"].(string)
		p.httpAddr, _ = rec["http_addr"].(string)
	case <-p.done:
		t.Fatalf("server exited before serving:\n%s", p.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start in 30s:\n%s", p.logs)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.credential"))
	switch {
	case err == nil:
		p.admin = strings.TrimSpace(string(b))
	case errors.Is(err, fs.ErrNotExist) && slices.Contains(extra, "--credentials-file"):
		// The credentials file's owner holds the credentials.
	default:
		t.Fatal(err)
	}
	return p
}

// logBuffer collects the server's log lines; the reader goroutine writes
// while tests read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop within 20s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("server exited with %d after SIGTERM:\n%s", code, p.logs)
	}
}

// run executes a program and returns its stdout; it fails the test on a
// non-zero exit unless allowFail.
func run(t *testing.T, allowFail bool, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && !allowFail {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String() + stderr.String(), err
}
