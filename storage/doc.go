// Package storage declares the contracts of the token authority's stores:
// Backend (contract.go), which the server holds, with the records that
// cross it (records.go) and its sentinel errors (errors.go); and Engine
// (engine.go), the transactional ordered key-value store with a change
// feed over which storage/core implements Backend once for both engines:
// storage/bbolt (one file, one process) and storage/etcd (a cluster shared
// by replicas). rules.go holds the record rules (which ids can be stored,
// what a new token record holds, what the retention sweep deletes).
// storage/storagetest holds stores to Backend and engines to Engine. The
// server maps the sentinel errors to status codes with errors.Is.
//
// # How it can hurt you
//
//   - A method added to Backend must be added to storage/core and to
//     storagetest in the same change: the compiler catches the first,
//     nothing catches the second.
//   - A rule applied anywhere but rules.go (an id check, what counts as
//     swept) lets the stores drift apart: a record one accepts the other
//     refuses, and a backup moved between them means something else.
//   - Snapshotter is optional: test for it and answer ErrUnsupported when
//     the store lacks it; never assume the bbolt store.
//   - An Engine's Update closure may run more than once (etcd reruns it on
//     a conflict): no side effects, no time.Now or fresh ids inside. Bytes
//     a transaction hands out are valid only during the closure; one kept
//     without a copy reads another key's bytes later.
//   - A transaction past Engine.Limits fails whole with ErrTooLarge;
//     etcd's are small (128 writes, 128 reads checked), so a change over
//     many keys must be split, knowing that the parts commit apart.
//   - A change feed behind a compaction fails with ErrCompacted; a
//     consumer that retries from the same revision loops forever: reload.
//   - Errors wrap exactly one sentinel; a bare error for a domain reason
//     reaches clients as Internal.
package storage
