package deploy_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveAndStop starts cmd (a server logging JSON to stderr), waits until it
// serves, expects 200 from each of paths on its HTTP listener, then stops it
// with SIGTERM and expects a clean exit.
func serveAndStop(t *testing.T, cmd *exec.Cmd, paths ...string) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr, logs := serving(stderr)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("server exited before serving: %v\n%s", <-done, logs)
		}
		for _, path := range paths {
			resp, err := http.Get("http://" + a + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s = %s; want 200", path, resp.Status)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not serve in 30s:\n%s", logs)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v\n%s", err, logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop in 15s after SIGTERM")
	}
}

// serving reads the server's JSON log, sending the HTTP address once it
// serves (closing addr when the log ends); logs collects every line.
func serving(r io.Reader) (<-chan string, *logBuffer) {
	addr := make(chan string, 1)
	logs := &logBuffer{}
	go func() {
		defer close(addr)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			logs.add(sc.Text())
			var rec struct {
				Msg      string `json:"msg"`
				HTTPAddr string `json:"http_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "tokenauthority serving" {
				addr <- rec.HTTPAddr
			}
		}
	}()
	return addr, logs
}

// logBuffer holds a server's log lines, written by the reader goroutine
// while the test reads.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
