//go:build race

package access_test

// raceEnabled: the race detector's sync.Pool drops a quarter of what is
// put back, so pooled memory is allocated again now and then.
const raceEnabled = true
