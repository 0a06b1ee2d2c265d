package teststack

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually asks again.
const pollEvery = 10 * time.Millisecond

// Eventually asks cond until it returns nil and fails the test with cond's
// last error if that has not happened within timeout. Use it instead of a
// sleep when a test waits for something to happen.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", timeout, err)
		}
		time.Sleep(pollEvery)
	}
}
