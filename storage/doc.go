// Package storage keeps the token authority's state in one bbolt file:
// workspaces, their members and model zoos, token records with their
// secret-hash index, and seeds parked for the SDK's pick-up flow. It knows
// nothing of gRPC; the server maps its sentinel errors (errors.go) to status
// codes.
//
// # Layout
//
// One bucket per entity plus two indexes, keys documented in keys.go:
// meta (schema version), workspaces, members and zoos (keyed
// workspace 0x00 id), tokens (keyed by token id), token_hashes
// (sha256 of the secret -> token id), workspace_tokens
// (workspace 0x00 token id -> user id, for newest-first lists) and seeds
// (sha256 of the seed -> sealed secret), and audit (sequence -> event,
// with the newest sequence and hash in meta). Values are protobuf-encoded. A file
// whose schema version is newer than this build's is refused at Open.
//
// # Durability
//
// A write method returns only after its change is committed and fsynced, so
// every acknowledged write survives a kill -9 or power loss. All writes go
// through one committer goroutine that takes whatever writes are queued at
// that moment (at most Options.MaxBatch) and commits them together: a lone
// writer never waits for a timer, and concurrent writers share fsyncs. A
// write whose context is already done is not started; once queued it is
// completed even if its context is cancelled. Reads use their own read
// transactions and never wait for the committer.
//
// # Audit events
//
// A write whose context carries an audit event (audit.NewContext) appends
// it to the hash-chained audit log inside the same transaction, after the
// write's closure succeeds (audit.go, commit.go): no write method has audit
// code of its own, and an event is durable exactly when its change is.
// RecordAudit records an event with no other change (a reveal).
//
// # How it can hurt you
//
//   - One process per file: bbolt locks the file, and a second Open fails
//     with ErrLocked after Options.Timeout.
//   - Returned messages are copies decoded from the file; changing them
//     changes nothing stored, and they may be stale the moment they return.
//   - Token records carry the secret hash and sealed secret; never log them.
//   - Write closures may run more than once (when another write in the same
//     batch fails), which is why every time and id is computed by the caller
//     and passed in rather than read inside a method.
//   - Every write of a context with an unrecorded event records it, so a
//     housekeeping write made while serving a request that is not the
//     request's change must use audit.Without (PickSeed's expired seed).
//   - If the stored audit head is unreadable, every audited write fails
//     rather than start a second chain; VerifyAudit reports the break.
//   - Counts walks the token bucket: call it per scrape, not per request.
//   - Close waits for queued writes; call it after the servers that write
//     have stopped, or their writes fail with ErrClosed.
package storage
