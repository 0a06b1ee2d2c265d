// Package bbolt is the token authority's embedded store, the default: the
// storage.Backend contract over one bbolt file for one process (Store),
// with the sentinel errors, record types and record rules of package
// storage. It knows nothing of gRPC. The bbolt library is imported as bolt,
// so that the two names never meet.
//
// Where each part is described: the buckets and keys in keys.go; the group
// commit (a write returns once its commit is fsynced; concurrent writes
// share commits; a write's audit event is appended in the same transaction)
// in commit.go; the validation index, which answers LookupTokenWithPolicy
// and LookupZoo from memory and is fed by the committer after each durable
// commit, in journal.go; the token rules (the lifecycle package's) applied
// inside transactions in roll.go, families.go, update.go and revoke.go.
//
// Engine (engine.go, engine_feed.go) is the storage.Engine over a file of
// its own: one bbolt transaction per Update, its changes journaled in the
// same transaction (bucket kvjournal) for the change feed. The Store does
// not use it yet.
//
// How it can hurt you:
//   - One process per file: a second Open fails with ErrLocked after
//     Options.Timeout. Close waits for queued writes; call it after the
//     servers that write have stopped, or their writes fail with ErrClosed.
//   - Returned messages are copies, possibly stale at once, except
//     LookupTokenWithPolicy's, LookupTokenInto's and LookupToken's: their
//     strings share the index's memory and the policy is shared by every
//     lookup; never change the policy. LookupTokenInto overwrites the
//     caller's record, its token's timestamps and scope slices.
//   - Write closures may run more than once: compute every time and id
//     before the call. A housekeeping write made while serving a request
//     that is not the request's change must use audit.Without, or it
//     records the request's event.
//   - Every write to the tokens, members, workspaces or zoos buckets must
//     note its key in the journal, and every add or delete of a token or
//     workspace go through insertToken/removeToken/insertWorkspace/
//     removeWorkspace, or validation answers from the old state and the
//     counts drift (TestIndexMatchesFile catches a forgotten path it runs).
//     Every record holding a sealed secret must be listed in sealedKinds
//     (reseal.go), or key rotation leaves it under the retired key.
//   - The index holds every token in memory; Open reads every record and
//     takes longer the more are stored. Nothing else may scan every token
//     record while serving: it maps the whole file into the process again.
//   - Token records carry the secret hash and sealed secret; never log them.
//   - An unreadable audit head fails every audited write (VerifyAudit
//     reports the break) rather than start a second chain.
//   - Backup holds one read transaction while it streams: a slow client
//     makes the file grow and delays writes that remap it. Restore checks the
//     file first, but bbolt is not hardened against every damaged file: a
//     page pointer aimed outside it can still crash the restoring process.
//   - SweepTokens deletes for good: a swept token's secret reads as unknown.
//     Pass now minus the retention, never now. RecordUses rewrites whole
//     records: one batched call a minute, not one per validation.
//   - The Engine's values point into the mapped file and are valid only in
//     the closure. Its journal keeps the last EngineOptions.JournalLength
//     transactions; a feed consumer further behind gets ErrCompacted. Each
//     open feed holds a goroutine until its ctx ends: cancel it.
//   - Reseal races a PickSeed of the same seed (the pick is retried by the
//     SDK): reseal offline. A family walk reads one record per stored member,
//     and a chain of rolls is bounded only by the retention sweep.
package bbolt
