package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat; 100 on every Linux this runs on.
const clockTicks = 100

// proc is a started program, stopped by its PID.
type proc struct {
	cmd  *exec.Cmd
	done chan error
}

// startProc runs bin with args and returns once it printed a JSON line
// holding key on stdout (or stderr when fromStderr), with that value.
func startProc(ctx context.Context, logs io.Writer, bin string, args []string, key string, fromStderr bool) (*proc, string, error) {
	return startProcEnv(ctx, logs, bin, args, nil, key, fromStderr)
}

// startProcEnv is startProc with the environment env (nil: the harness's).
func startProcEnv(ctx context.Context, logs io.Writer, bin string, args, env []string, key string, fromStderr bool) (*proc, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	// A harness killed on the spot takes its servers with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var r io.Reader
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	if fromStderr {
		cmd.Stdout, cmd.Stderr = logs, pw
	} else {
		cmd.Stdout, cmd.Stderr = pw, logs
	}
	r = pr
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, "", err
	}
	pw.Close()
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Bytes()
			fmt.Fprintf(logs, "%s\n", line)
			if sent {
				continue
			}
			var rec map[string]any
			if json.Unmarshal(line, &rec) == nil {
				if v, ok := rec[key].(string); ok {
					found <- v
					sent = true
				}
			}
		}
		pr.Close()
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case v := <-found:
		return p, v, nil
	case err := <-p.done:
		return nil, "", fmt.Errorf("%s exited before it was ready: %v", bin, err)
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, "", fmt.Errorf("%s: not ready after 60s", bin)
	case <-ctx.Done():
		p.stop()
		return nil, "", ctx.Err()
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL after 10 s, and waits for the exit.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cpuSeconds is the user+system CPU time the process has used so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(ut+st) / clockTicks, nil
}

// rssBytes is the process's resident set (VmRSS).
func rssBytes(pid int) (int64, error) {
	return statusBytes(pid, "VmRSS:")
}

// statusBytes reads one "<field> N kB" line of /proc/<pid>/status.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}
