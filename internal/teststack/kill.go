package teststack

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// KillChild runs the test binary again as a child that runs only the test
// named test, with env=value added to its environment: the test sees the
// variable and does the child's work instead. KillChild hands each line
// the child prints to line, and kills the child with SIGKILL the first
// time line returns true. It returns once the child is gone and its output
// read; lines printed before the kill landed are still handed to line.
//
// A child never killed (it exited by itself) is not an error here: the
// caller counts what it saw and says what it missed.
func KillChild(t testing.TB, test, env, value string, line func(string) (kill bool)) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env+"="+value)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		// A failed line check must not leave the child running.
		if !killed {
			_ = cmd.Process.Kill()
		}
		// The child's exit status is "killed" or whatever it chose; what
		// it printed is the evidence.
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line(sc.Text()) && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the child's output: %v", err)
	}
}

// AsChild runs child with the value of env and returns true when this
// process is the child KillChild started with env; the test then returns
// at once. Otherwise it skips the test in -short mode (it spawns a
// process) and returns false.
func AsChild(t testing.TB, env string, child func(value string)) bool {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		child(v)
		return true
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	return false
}
