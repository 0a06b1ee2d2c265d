package storagetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"tokenauthority/storage"
)

// testEngineIsolation: one writer keeps setting x and y to the same new value in
// one transaction; readers must always see them equal, by Get and Range.
func testEngineIsolation(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	enginePut(t, ctx, e, "x", "0", "y", "0")
	const rounds = 40
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= rounds; i++ {
			v := []byte(strconv.Itoa(i))
			_, err := e.Update(ctx, func(tx storage.Tx) error {
				if err := tx.Put([]byte("x"), v); err != nil {
					return err
				}
				if got, err := tx.Get([]byte("x")); err != nil || string(got) != string(v) {
					return fmt.Errorf("own write: Get(x) = %q, %v; want %s", got, err, v)
				}
				return tx.Put([]byte("y"), v)
			})
			if err != nil {
				t.Errorf("Update = %v", err)
				return
			}
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				err := e.View(ctx, func(tx storage.ReadTx) error {
					x, err := tx.Get([]byte("x"))
					if err != nil {
						return err
					}
					y, err := tx.Get([]byte("y"))
					if err != nil {
						return err
					}
					got, err := engineRangeAll(tx, "x", "z", 0, false)
					if err != nil {
						return err
					}
					want := []string{"x=" + string(x), "y=" + string(x)}
					if string(x) != string(y) || !cmp.Equal(want, got) {
						return fmt.Errorf("half a transaction: x=%s y=%s range=%q", x, y, got)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// testEngineConcurrentIncrements is Dex's lost update: every increment of one
// counter by concurrent read-modify-write transactions must land, also
// when the transactions fetched the counter ahead (storage.Prefetcher,
// with a key that is absent): a fetched key is checked at commit like a
// read one.
func testEngineConcurrentIncrements(t *testing.T, u EngineUnderTest) {
	for _, prefetch := range []bool{false, true} {
		t.Run(fmt.Sprintf("prefetch=%v", prefetch), func(t *testing.T) {
			testIncrements(t, u.Engine, prefetch)
		})
	}
}

func testIncrements(t *testing.T, e storage.Engine, prefetch bool) {
	ctx := engineCtx(t)
	counter := fmt.Sprintf("counter-%v", prefetch)
	var wg sync.WaitGroup
	const workers, each = 8, 8
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, err := e.Update(ctx, func(tx storage.Tx) error {
					if p, ok := tx.(storage.Prefetcher); ok && prefetch {
						if err := p.Prefetch([][]byte{[]byte(counter), []byte("never-written")}); err != nil {
							return err
						}
						if _, err := tx.Get([]byte("never-written")); !errors.Is(err, storage.ErrNotFound) {
							return fmt.Errorf("Get(absent key fetched ahead) = %v, want ErrNotFound", err)
						}
					}
					n := 0
					v, err := tx.Get([]byte(counter))
					switch {
					case errors.Is(err, storage.ErrNotFound):
					case err != nil:
						return err
					default:
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					return tx.Put([]byte(counter), []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("Update(increment) = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, err := engineGet(t, ctx, e, counter); err != nil || got != strconv.Itoa(workers*each) {
		t.Errorf("counter = %q, %v; want %d", got, err, workers*each)
	}
}

// testEngineRangeConflicts: concurrent transactions each count the keys under
// a prefix and add one while fewer than three exist. A key another
// transaction adds to a range this one listed must be a conflict, or more
// than three land (write skew).
func testEngineRangeConflicts(t *testing.T, u EngineUnderTest) {
	ctx, e := engineCtx(t), u.Engine
	const workers, slots = 8, 3
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Update(ctx, func(tx storage.Tx) error {
				n := 0
				err := storage.RangePrefix(tx, []byte("slot/"), 0, func(_, _ []byte) error { n++; return nil })
				if err != nil || n >= slots {
					return err
				}
				return tx.Put([]byte(fmt.Sprintf("slot/%d", w)), []byte("taken"))
			})
			if err != nil {
				t.Errorf("Update = %v", err)
			}
		}()
	}
	wg.Wait()
	var n int
	err := e.View(ctx, func(tx storage.ReadTx) error {
		return storage.RangePrefix(tx, []byte("slot/"), 0, func(_, _ []byte) error { n++; return nil })
	})
	if err != nil || n != slots {
		t.Errorf("%d slots taken (View = %v), want exactly %d", n, err, slots)
	}
}
