package etcd

import "time"

// Staleness reports how long ago etcd last confirmed this replica's
// validation index current, and the bound (MaxStaleness) past which
// validation reads through and Ping fails; for the metrics.
func (s *Store) Staleness() (lag, bound time.Duration) {
	return s.idx.lag(), s.maxStale
}
