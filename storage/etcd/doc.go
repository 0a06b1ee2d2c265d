// Package etcd keeps the token authority's state in an etcd cluster, so many
// replicas of the service can share it: Engine is storage.Engine over etcd
// (an optimistic transaction; see Engine), and Store is the domain core
// (storage/core) over it, the same code the bbolt build runs. Keys live
// under a prefix; values are the protobuf messages of gen/. Connecting to
// the cluster is etcdclient's.
//
// # How it can hurt you
//
//   - Writes need a quorum: with a majority of members down every write
//     fails with an error wrapping storage.ErrUnavailable after its
//     WriteTimeout, while validation answers from the in-memory index for
//     at most MaxStaleness, then reads through (and /readyz fails).
//   - A lookup the index misses reads etcd (a token created through
//     another replica may not have reached this index yet), at most
//     Options.MissReads times a second; past that a miss is answered from
//     the index, so a flood of unknown tokens can make a token created
//     elsewhere a moment ago be refused once.
//   - Token records carry secret hashes and sealed secrets: anyone who can
//     read the prefix can read them. Restrict the prefix with etcd roles.
//   - A transaction holds at most 128 writes and 128 read checks (etcd's
//     --max-txn-ops default): the core splits bigger changes, so members
//     with lower limits need Options.Limits lowered too. Revisions are the
//     cluster's, shared with everything on it, and a compaction anywhere on
//     the cluster makes a feed behind it reload.
//   - A prefix written by the first etcd layout (before the domain core)
//     is refused at Open: this build does not read it.
package etcd
