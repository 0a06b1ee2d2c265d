// Package metrics exposes the service's Prometheus metrics: request counts
// and latencies for both transports, token decisions, store commit batch
// sizes and the number of stored tokens and workspaces.
//
// Labels are chosen so that their cardinality stays bounded: HTTP requests
// are labelled by their route pattern, never by the raw path, because the
// SDK's self-service paths carry token secrets. A caller that passes a raw
// path as the method label both leaks secrets into the metrics and makes the
// series grow without bound.
//
// Every method of *Metrics is a no-op on a nil receiver, so code under test
// may run without metrics.
package metrics
