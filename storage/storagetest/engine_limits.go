package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"tokenauthority/storage"
)

func testEngineLimits(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	lim := e.Limits()
	if lim.MaxOps <= 0 || lim.MaxBytes <= 0 {
		t.Fatalf("Limits() = %+v, want positive MaxOps and MaxBytes", lim)
	}
	enginePut(t, ctx, e, "seen", "x")
	tests := []struct {
		name string
		fn   func(tx storage.Tx) error
	}{
		{"one op too many", func(tx storage.Tx) error {
			for i := 0; i <= lim.MaxOps; i++ {
				if err := tx.Put([]byte(fmt.Sprintf("op/%06d", i)), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}},
		{"limit error ignored by the closure", func(tx storage.Tx) error {
			for i := 0; i <= lim.MaxOps; i++ {
				_ = tx.Put([]byte(fmt.Sprintf("op/%06d", i)), []byte("v"))
			}
			return nil
		}},
		{"one byte too many", func(tx storage.Tx) error {
			return tx.Put([]byte("op/big"), make([]byte, lim.MaxBytes))
		}},
	}
	if lim.MaxReads > 0 {
		tests = append(tests, struct {
			name string
			fn   func(tx storage.Tx) error
		}{"one read too many", func(tx storage.Tx) error {
			for i := 0; i <= lim.MaxReads; i++ {
				if _, err := tx.Get([]byte(fmt.Sprintf("read/%06d", i))); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
			}
			return tx.Put([]byte("op/after-reads"), []byte("v"))
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.Update(ctx, tt.fn); !errors.Is(err, storage.ErrTooLarge) {
				t.Fatalf("Update = %v, want ErrTooLarge", err)
			}
			var n int
			err := e.View(ctx, func(tx storage.ReadTx) error {
				return storage.RangePrefix(tx, []byte("op/"), 0, func(_, _ []byte) error { n++; return nil })
			})
			if err != nil || n != 0 {
				t.Errorf("after a refused transaction: %d keys written, View = %v; want none", n, err)
			}
		})
	}
	// Exactly at each declared limit the engine (for etcd: the server with
	// its default flags) must commit.
	atLimit := []struct {
		name string
		fn   func(tx storage.Tx) error
	}{
		{"MaxOps writes", func(tx storage.Tx) error {
			for i := 0; i < lim.MaxOps; i++ {
				if err := tx.Put([]byte(fmt.Sprintf("op/%06d", i)), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}},
		{"MaxBytes bytes", func(tx storage.Tx) error {
			key := []byte("op/big")
			return tx.Put(key, make([]byte, lim.MaxBytes-len(key)))
		}},
		{"MaxReads reads", func(tx storage.Tx) error {
			for i := 0; i < max(lim.MaxReads-1, 0); i++ {
				if _, err := tx.Get([]byte(fmt.Sprintf("read/%06d", i))); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
			}
			// The last read is an empty range: it counts once, and
			// would count once more per key it returned.
			err := storage.RangePrefix(tx, []byte("none/"), 0, func(_, _ []byte) error { return nil })
			if err != nil {
				return err
			}
			return tx.Put([]byte("op/after-reads"), []byte("v"))
		}},
	}
	for _, tt := range atLimit {
		t.Run("at the limit/"+tt.name, func(t *testing.T) {
			if _, err := e.Update(ctx, tt.fn); err != nil {
				t.Fatalf("Update at the limit (%+v) = %v", lim, err)
			}
		})
	}
}
