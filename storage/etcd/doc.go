// Package etcd keeps the token authority's state in an etcd cluster, so many
// replicas of the service can share it: Engine is storage.Engine over etcd,
// and Store is the domain core (storage/core) over it, the same code the
// bbolt build runs. Keys live under a configurable prefix; values are the
// protobuf messages of gen/.
//
// # Engine
//
// An Update is an optimistic transaction: it reads at one revision, and
// commits its writes in one Txn that compares the mod revision of every key
// it read and finds no key created or changed in a range it listed; a lost
// compare reruns it. The change feed is the watch of the prefix, with
// progress notifications asked for every EngineOptions.Progress; a watch
// that goes silent for twice that is reopened, on the next member when
// EngineOptions.Watch is set.
//
// # How it can hurt you
//
//   - Writes need a quorum: with a majority of members down every write
//     fails with an error wrapping storage.ErrUnavailable after its
//     WriteTimeout, while validation keeps answering from the in-memory
//     index for at most MaxStaleness, then reads through (and /readyz
//     fails).
//   - The password file is read once at start; rotate it by restarting.
//   - Open first makes its own TLS connection to every https endpoint and
//     sends it an HTTP/2 preface (preflight.go), because the etcd client
//     reports a TLS failure only as a timeout. A member's log may show
//     these short connections.
//   - A lookup the index misses reads etcd (a token created through
//     another replica may not have reached this index yet), at most
//     Options.MissReads times a second; past that, a miss is answered from
//     the index, so a flood of unknown tokens can make a token created
//     elsewhere a moment ago be refused once.
//   - Token records carry secret hashes and sealed secrets: anyone who can
//     read the prefix can read them. Restrict the prefix with etcd roles.
//   - A transaction holds at most 128 writes and 128 read checks (etcd's
//     --max-txn-ops default; Options.Limits when the members differ): the
//     core splits bigger changes, so lowering the members' limits below the
//     defaults needs Limits lowered too. Engine revisions are the
//     cluster's, shared with everything else on it, and a compaction
//     anywhere on the cluster makes a feed behind it reload.
//   - A prefix written by the first etcd layout (before the domain core)
//     is refused at Open: this build does not read it.
package etcd
