// Package core is the token authority's store, written once over
// storage.Engine: every operation of storage.Backend as engine transactions,
// plus the validation index (validindex) fed by the engine's change feed.
// Writes queued together commit in one engine transaction (group commit).
//
// How it can hurt you: a write closure may run more than once (a lost race
// on etcd, a neighbour's failure in its batch), so it computes everything
// from what it reads and assigns, never appends to, what it reports. A
// change past the engine's limits is split (cleanup.go): it takes effect
// when decided, and a process that stops half-way leaves a marker for Open
// or another process's FinishStale to finish.
package core
