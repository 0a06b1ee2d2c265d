package storagetest

import (
	"testing"

	"tokenauthority/storage"
)

// NewStore returns a fresh, empty store for one test, closed when the test
// ends. RunTests calls it once per test, from parallel tests.
type NewStore func(t testing.TB) storage.Backend

// RunTests runs the conformance suite against the backend newStore opens.
func RunTests(t *testing.T, newStore NewStore) {
	for _, c := range conformance {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore) })
	}
}
