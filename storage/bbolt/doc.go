// Package bbolt is the token authority's embedded store, the default: it
// implements the storage.Backend contract over one bbolt file for one
// process (Store), with the sentinel errors, record types and record rules
// of package storage; storage/etcd implements the same contract over an
// etcd cluster for many replicas, and storage/storagetest checks both. The
// Store keeps the token authority's state in one file: workspaces, their
// members and model zoos, token records with their secret-hash index, and
// seeds parked for the SDK's pick-up flow. It knows nothing of gRPC; the
// server maps the sentinel errors to status codes.
//
// The bbolt library itself is imported as bolt throughout the package, so
// that the two names never meet.
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
// # Token rules
//
// The rules of a token's life (state, roll, revocation, family, policy
// limits) are the lifecycle package's; the store applies them inside its
// write transactions so that a roll, a family revocation or a change is one
// commit (roll.go, families.go, update.go, revoke.go). Token families are
// chains linked by replaces / replaced_by and walked without an index. A new
// token record is written by insertToken, a changed one by rewriteToken and
// a deleted one by removeToken; every revocation goes through
// revokeRecords, which also revokes the token's descendants. The retention
// sweep deletes a family's members oldest first, so the stored members of a
// family are always an unbroken chain and a walk from any of them reaches
// every stored descendant.
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
// # Validation index
//
// LookupTokenWithPolicy, the read every validation makes, and LookupZoo,
// the zoo read of every access decision, answer from an in-memory
// validindex.Index instead of a read transaction: loaded from the file at
// Open, and fed by the committer. The write helpers that touch a token
// record, a membership, a workspace or a zoo note the key in the
// transaction's journal (journal.go); before the commit the journal reads
// back what the transaction left under each key, and once the commit is on
// disk the committer applies that to the index and only then answers the
// writers. So validation never sees a write before it is durable, and never
// misses one that was acknowledged.
//
// # Audit events
//
// A write whose context carries an audit event (audit.NewContext) appends
// it to the hash-chained audit log inside the same transaction, after the
// write's closure succeeds (audit.go, commit.go), and an event is durable
// exactly when its change is. The one thing a write method adds is what only
// its transaction knows: the revocations of several tokens (RevokeTokens,
// RevokeUserTokens, RevokeLeaked, RemoveMember, RevokeToken, which also
// revokes the tokens that replaced it) name the tokens they revoked with
// storage.NoteRevoked, and a RollToken that detects reuse names the reused token
// and the family it revoked (it commits that and then fails). An event that
// names more than storage.RevokedPerEvent tokens continues in events right
// after it, in the same transaction (storage.SplitRevoked), as on etcd.
// RecordAudit records an event with no other change (a reveal). Writes the server makes on its own (RecordUses, SweepTokens,
// PurgeExpiredSeeds) run without an event.
//
// # How it can hurt you
//
//   - One process per file: bbolt locks the file, and a second Open fails
//     with ErrLocked after Options.Timeout.
//   - Returned messages are copies decoded from the file; changing them
//     changes nothing stored, and they may be stale the moment they return.
//     The exception is LookupTokenWithPolicy (and LookupToken): its record
//     comes without the sealed secret, its strings share the validation
//     index's memory, and its policy is shared by every lookup and must
//     never be changed.
//   - Every write to the tokens, members, workspaces or zoos buckets must
//     note its key in the journal (s.j), as insertToken, rewriteToken,
//     removeToken, insertWorkspace, removeWorkspace and the member and zoo
//     writes do, or
//     validation answers from the old state until the next Open
//     (TestIndexMatchesFile catches a forgotten path that it exercises). The
//     index holds every token in memory, encoded, about 250 B each. Open
//     reads every record to load it and then, on Linux, releases the mapped
//     pages it read (madvise), so they are not counted as resident memory of
//     the process; Open takes longer the more tokens are stored. Nothing
//     else may scan every token record of the file while serving: it would
//     fault the whole file into the process again (SweepTokens finds its
//     candidates in the index for that reason).
//   - Token records carry the secret hash and sealed secret; never log them.
//   - Write closures may run more than once (when another write in the same
//     batch fails), which is why every time and id is computed by the caller
//     and passed in rather than read inside a method.
//   - Every write of a context with an unrecorded event records it, so a
//     housekeeping write made while serving a request that is not the
//     request's change must use audit.Without (PickSeed's dead seed).
//   - If the stored audit head is unreadable, every audited write fails
//     rather than start a second chain; VerifyAudit reports the break.
//   - Counts reads counters kept in the meta bucket. Every write that adds or
//     deletes a token record or a workspace must go through insertToken /
//     removeToken / insertWorkspace / removeWorkspace (counts.go), in the
//     same transaction, or the counts drift from the buckets.
//   - PickSeed calls its open function outside any transaction and deletes
//     the seed only after it succeeded; a failing open leaves the seed.
//   - Backup holds one read transaction for as long as the snapshot takes to
//     stream: a slow client keeps old pages from being reused (the file
//     grows), and a write that must grow the file's memory map waits for it
//     to finish. Restore refuses an existing destination and a file that is
//     not a complete store of this schema; VerifyFile checks the file's
//     length and freelist against its meta pages first, because bbolt maps
//     a truncated file and crashes (SIGBUS) or loops on it rather than
//     returning an error, and it turns bbolt's assertion panics into errors.
//     bbolt is not hardened against every damaged file, though: a page
//     pointer aimed outside the file can still crash the restoring process
//     (before anything is written). Keep backups where they cannot be
//     tampered with.
//   - SweepTokens deletes records for good, with their secret-hash entries:
//     a swept token's secret then reads as unknown, not revoked. Pass a cutoff
//     of now minus the retention, never now.
//   - RecordUses rewrites whole records; it is meant for one batched call a
//     minute, not one per validation.
//   - Every record that holds a sealed secret must be listed in sealedKinds
//     (reseal.go), or master key rotation leaves it under the retired key.
//     Reseal replaces a record only if it is unchanged since it was read,
//     and PickSeed deletes a seed only if it is; a pick racing a reseal of
//     the same seed loses and is retried by the SDK, so reseal offline.
//   - A family walk reads one record per member; a family is as long as
//     its stored chain of rolls, which the one-predecessor-in-grace rule
//     does not bound (a token rolled every minute is a long chain until the
//     retention sweep deletes its old members, oldest first).
//   - Close waits for queued writes; call it after the servers that write
//     have stopped, or their writes fail with ErrClosed.
package bbolt
