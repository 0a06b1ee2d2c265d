// Package etcd keeps the token authority's state in an etcd cluster shared
// by many replicas: Store is the domain core (storage/core) over Engine, a
// storage.Engine on etcd with keys under a prefix and gen/'s protobuf
// messages as values. etcdclient connects to the cluster.
//
// # How it can hurt you
//
//   - Writes need a quorum: without one they fail with ErrUnavailable after
//     WriteTimeout; validation answers from the index for at most
//     MaxStaleness, then reads through (and /readyz fails).
//   - A lookup the index misses (a token just created elsewhere) reads etcd
//     at most Options.MissReads times a second; past that, it can be
//     refused once.
//   - Anyone who can read the prefix reads secret hashes and sealed
//     secrets: restrict it with etcd roles.
//   - A transaction holds at most 128 writes and 128 read checks (etcd's
//     --max-txn-ops); lower member limits need Options.Limits lowered too.
//     A compaction anywhere on the cluster makes a feed behind it reload.
//   - A prefix of the first etcd layout (0.1.0) is migrated at Open
//     (migrate.go): a 0.1.0 replica still running then writes keys the
//     migration has passed; stop them all first. No way back.
package etcd
