package metrics

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// storeCounts reports how many tokens and workspaces the store holds.
type storeCounts func(ctx context.Context) (tokens, workspaces int, err error)

// WatchStore makes every scrape report the store's counts as the gauges
// tokenauthority_tokens_stored and tokenauthority_workspaces_stored. The
// counts are read at scrape time, so they are never stale and cost nothing
// between scrapes. A later call replaces the function; nil stops reporting.
func (m *Metrics) WatchStore(counts func(ctx context.Context) (tokens, workspaces int, err error)) {
	if m == nil {
		return
	}
	if counts == nil {
		m.store.counts.Store(nil)
		return
	}
	f := storeCounts(counts)
	m.store.counts.Store(&f)
}

// storeCollector is registered from the start and emits nothing until
// WatchStore gives it a source, so the store can be opened after the
// metrics are wired.
type storeCollector struct {
	tokens     *prometheus.Desc
	workspaces *prometheus.Desc
	counts     atomic.Pointer[storeCounts]
}

func newStoreCollector() *storeCollector {
	return &storeCollector{
		tokens: prometheus.NewDesc("tokenauthority_tokens_stored",
			"Tokens in the store, in any state.", nil, nil),
		workspaces: prometheus.NewDesc("tokenauthority_workspaces_stored",
			"Workspaces in the store.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tokens
	ch <- c.workspaces
}

// Collect implements prometheus.Collector. A failed count is reported as an
// invalid metric so the scrape shows the failure instead of a stale zero.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.counts.Load()
	if f == nil {
		return
	}
	// The Collector interface carries no context; the count is a read-only
	// store transaction that does not block on writers.
	tokens, workspaces, err := (*f)(context.Background())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.tokens, err)
		ch <- prometheus.NewInvalidMetric(c.workspaces, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.tokens, prometheus.GaugeValue, float64(tokens))
	ch <- prometheus.MustNewConstMetric(c.workspaces, prometheus.GaugeValue, float64(workspaces))
}
