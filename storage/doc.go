// Package storage declares the contract every store of the token authority
// keeps (Backend, contract.go), the record types that cross it (Roll,
// SeedPark, Sealed), its sentinel errors (errors.go) and the record rules
// every store applies the same way (rules.go: which ids can be stored, what
// a new token record must hold, what the retention sweep deletes, when a
// parked seed has expired). It holds no store itself: storage/bbolt keeps
// the state in one bbolt file for one process (the default), storage/etcd
// in an etcd cluster shared by many replicas, and storage/storagetest is
// the conformance suite both pass. The server holds a Backend and maps the
// sentinel errors to status codes with errors.Is; it knows neither store.
//
// Engine (engine.go) is the smaller contract the stores are moving onto: a
// transactional, ordered key-value store with a change feed, implemented by
// storage/bbolt (Engine) and storage/etcd (Engine) and held to the contract
// by storagetest.RunEngineTests. The domain operations will be written once
// over it (docs/storage.md); until then nothing in the server uses it.
//
// # How it can hurt you
//
//   - A method added to Backend must be added to every store and to
//     storagetest in the same change, or one store silently lacks it; the
//     interface assertions in each store package catch the first, nothing
//     catches the second.
//   - A rule a store applies on its own instead of calling rules.go (an id
//     check, what counts as swept) lets the stores drift apart: a record one
//     accepts the other refuses, and a backup moved between them no longer
//     means the same thing.
//   - Snapshotter is optional: code that needs a streamed backup must test
//     for it and answer ErrUnsupported when the store lacks it, never assume
//     the bbolt store.
//   - An Engine's Update closure may run more than once (etcd reruns it on a
//     conflict): no side effects in it, no time.Now or fresh ids computed
//     inside. Bytes a transaction hands out are valid only during the
//     closure; keeping one without a copy reads another key's bytes later.
//   - A transaction past Engine.Limits fails whole with ErrTooLarge; etcd's
//     are small (128 writes, 128 reads checked), so a change over many keys
//     must be split by the caller, knowing that the parts commit apart.
//   - A change feed that fell behind a compaction fails with ErrCompacted;
//     a consumer that retries from the same revision loops forever: reload.
//   - Errors wrap exactly one sentinel; a store that returns a bare error
//     for a domain reason reaches clients as Internal.
package storage
