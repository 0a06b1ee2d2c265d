//go:build !race

package access_test

// raceEnabled: see race_test.go.
const raceEnabled = false
