package writeloop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"tokenauthority/bench/baseline/writeloop"
)

func TestRun(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk full")
	for _, tc := range []struct {
		name    string
		writers int
		failAt  int64 // the write (1-based, over all writers) that fails; 0: none
		wantErr error
	}{
		{name: "one writer", writers: 1},
		{name: "many writers share the count", writers: 8},
		{name: "a failed write ends the run with its error", writers: 4, failAt: 10, wantErr: errDisk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			seen := make([]atomic.Bool, tc.writers)
			var out bytes.Buffer
			err := writeloop.Run(&out, tc.writers, 50*time.Millisecond, func(w int) error {
				seen[w].Store(true)
				if n := calls.Add(1); n == tc.failAt {
					return errDisk
				}
				time.Sleep(time.Millisecond)
				return nil
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Run = %v, want %v", err, tc.wantErr)
				}
				if out.Len() != 0 {
					t.Errorf("a failed run printed %q", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Writes  int64   `json:"writes"`
				Seconds float64 `json:"seconds"`
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("report %q: %v", out.String(), err)
			}
			if rep.Writes != calls.Load() || rep.Writes == 0 {
				t.Errorf("writes = %d, want the %d calls made", rep.Writes, calls.Load())
			}
			if rep.Seconds < 0.05 {
				t.Errorf("seconds = %v, want at least the 50ms duration", rep.Seconds)
			}
			for w := range seen {
				if !seen[w].Load() {
					t.Errorf("writer %d never wrote", w)
				}
			}
		})
	}
}
