package bbolt_test

import (
	"path/filepath"
	"testing"

	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.RunTests(t, func(t testing.TB) storage.Backend {
		return openAt(t, filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{})
	})
}
