package teststack_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"tokenauthority/internal/teststack"
)

// fatalRecorder records a Fatalf and ends the goroutine that called it, as
// testing.T does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestEventually(t *testing.T) {
	t.Parallel()
	t.Run("returns once the condition holds", func(t *testing.T) {
		t.Parallel()
		calls := 0
		teststack.Eventually(t, 5*time.Second, func() error {
			if calls++; calls < 3 {
				return errors.New("not yet")
			}
			return nil
		})
		if calls != 3 {
			t.Errorf("cond called %d times; want 3", calls)
		}
	})
	t.Run("fails with the last error after the timeout", func(t *testing.T) {
		t.Parallel()
		f := &fatalRecorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			teststack.Eventually(f, 50*time.Millisecond, func() error { return errors.New("still closed") })
		}()
		<-done
		if !strings.Contains(f.msg, "still closed") {
			t.Errorf("failure = %q; want the condition's last error", f.msg)
		}
	})
}
