package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"tokenauthority/metrics"
)

func TestWatchStore(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	if got := testutil.CollectAndCount(reg, "tokenauthority_tokens_stored", "tokenauthority_workspaces_stored"); got != 0 {
		t.Errorf("before WatchStore: %d store gauges, want 0", got)
	}

	tokens, workspaces := 7, 2
	m.WatchStore(func(context.Context) (int, int, error) { return tokens, workspaces, nil })

	want := `
# HELP tokenauthority_tokens_stored Tokens in the store, in any state.
# TYPE tokenauthority_tokens_stored gauge
tokenauthority_tokens_stored 7
# HELP tokenauthority_workspaces_stored Workspaces in the store.
# TYPE tokenauthority_workspaces_stored gauge
tokenauthority_workspaces_stored 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tokenauthority_tokens_stored", "tokenauthority_workspaces_stored"); err != nil {
		t.Error(err)
	}

	// The counts are read at scrape time, not when WatchStore is called.
	tokens, workspaces = 8, 3
	want = strings.NewReplacer("stored 7", "stored 8", "stored 2", "stored 3").Replace(want)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tokenauthority_tokens_stored", "tokenauthority_workspaces_stored"); err != nil {
		t.Error(err)
	}
}

func TestWatchStoreError(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.WatchStore(func(context.Context) (int, int, error) { return 0, 0, errors.New("store closed") })

	_, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), "store closed") {
		t.Errorf("Gather() error = %v, want one mentioning %q", err, "store closed")
	}
}
