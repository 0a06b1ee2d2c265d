// Package storagetest is the conformance suite of storage.Backend: every
// backend runs RunTests with a function that opens a fresh, empty store,
// and must pass all of it. The tests are black-box: they use only the
// Backend methods, the record types and the sentinel errors.
//
// The suite covers CRUD of every entity, every rejection, pagination, the
// multi-record writes (all or nothing, checked by the state after a
// rejected write) and concurrent writers on the same records.
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
package storagetest
