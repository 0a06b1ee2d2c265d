// Package storagetest is the conformance suite of storage.Backend: every
// backend runs RunTests with a function that opens a fresh, empty store,
// and must pass all of it. The tests are black-box: they use only the
// Backend methods, the record types and the sentinel errors.
//
// The suite covers CRUD of every entity, every rejection, pagination, the
// multi-record writes (all or nothing, checked by the state after a
// rejected write) and concurrent writers on the same records.
//
// RunEngineTests (engine.go, engine_feed.go) is the second suite: it
// holds a storage.Engine to its contract (isolation, conflicts under
// concurrent writers, the declared limits, the change feed's order,
// resumption, compaction and restart). Its caller supplies how to reopen
// the engine's state and how to compact it.
//
// # How it can hurt you
//
//   - The tests call t.Parallel: newStore must be safe to call from many
//     goroutines and must return stores that share nothing visible (for
//     etcd, a fresh key prefix per store).
//   - Tests take their store from the openStore parameter and must not
//     assume a backend: no file paths, no commit counts, no bbolt handles.
//     Backend-specific tests (file locks, kill -9, commit batching) live
//     with their backend.
//   - The engine suite's compaction test runs after the others, alone: on
//     etcd a compaction is cluster-wide and would break other tests' feeds.
//     An engine test that compacts elsewhere must not share the cluster.
package storagetest
