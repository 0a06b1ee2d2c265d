// Package metrics exposes the service's Prometheus metrics: request counts
// and latencies for both transports, token decisions, store commit batch
// sizes, the number of stored tokens and workspaces, and what the alerts
// in deploy/alerts watch (health.go): readiness, the etcd index's
// staleness, store errors, the audit chain's last verification and the
// serving certificate's expiry. The alert rules and the Grafana dashboard
// use these names: renaming one breaks them (a daemon test catches it).
//
// Labels are chosen so that their cardinality stays bounded: HTTP requests
// are labelled by their route pattern, never by the raw path, because the
// SDK's self-service paths carry token secrets. A caller that passes a raw
// path as the method label both leaks secrets into the metrics and makes the
// series grow without bound.
//
// Every method of *Metrics is a no-op on a nil receiver, so code under test
// may run without metrics. The readiness gauge runs the store's Ping on
// every scrape, as /readyz does: a scrape of an etcd replica costs a read.
package metrics
