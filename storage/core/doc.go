// Package core is the token authority's store, written once over
// storage.Engine: every domain operation of storage.Backend (workspaces,
// members, zoos, tokens and their families, revocations, seeds, sweeps,
// key checks, counts and the audit chain) as transactions of an engine,
// and the validation index (validindex) kept current by the engine's
// change feed. storage/bbolt and storage/etcd are engines plus what only
// they have (a file's backups; a cluster's connection settings); a third
// engine is the contract plus passing storagetest's two suites.
//
// Writes go through one committer per Store that runs the closures queued
// at the moment in one engine transaction (a group commit): one fsync on
// bbolt, one Txn on etcd, for as many writes as fit the engine's limits.
//
// How it can hurt you: a write closure may run more than once (a lost race
// on etcd, a neighbour's failure in its batch), so it computes everything
// from what it reads and assigns, never appends to, what it reports. A
// change past the engine's limits (a revocation of thousands of tokens on
// etcd) is split (cleanup.go): until the call returns, tokens of its later
// chunks still validate, and a process that stops half-way leaves a
// marker that only the next Open finishes.
package core
