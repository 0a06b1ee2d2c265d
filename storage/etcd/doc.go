// Package etcd keeps the token authority's state in an etcd cluster shared
// by many replicas: Engine is storage.Engine over etcd, Store the domain
// core (storage/core) over it, the code the bbolt build runs. Keys live
// under a prefix; values are the protobuf messages of gen/. etcdclient
// connects to the cluster.
//
// # How it can hurt you
//
//   - Writes need a quorum: without one every write fails with
//     storage.ErrUnavailable after WriteTimeout, while validation answers
//     from the index for at most MaxStaleness, then reads through (and
//     /readyz fails).
//   - A lookup the index misses reads etcd (a token created through
//     another replica may not be here yet) at most Options.MissReads times
//     a second; past that, a token created elsewhere a moment ago can be
//     refused once.
//   - Anyone who can read the prefix reads secret hashes and sealed
//     secrets: restrict it with etcd roles.
//   - A transaction holds at most 128 writes and 128 read checks (etcd's
//     --max-txn-ops default); members with lower limits need
//     Options.Limits lowered too. Revisions are the cluster's, and a
//     compaction anywhere on it makes a feed behind it reload.
//   - A prefix of the first etcd layout (before the domain core) is
//     refused at Open.
package etcd
