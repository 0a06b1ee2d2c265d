// Package etcd keeps the token authority's state in an etcd cluster, so many
// replicas of the service can share it. Records are the same protobuf
// messages the bbolt store keeps, under a configurable key prefix (keys.go).
//
// # Consistency
//
// Every write that changes more than one record is one etcd transaction
// whose comparisons guard what the write depends on (the member exists, the
// secret hash is free, the record is unchanged since it was read); a write
// that loses a comparison to a concurrent writer re-reads and tries again.
// Writes whose size is unbounded (removing a member with many tokens,
// deleting a workspace, revoking many tokens, the retention sweep) make
// their decision in one transaction (the member or workspace key is
// deleted, a revocation record is written) and clean up in batches well
// under etcd's 128 operations per transaction, so each is all or nothing
// as validation sees it. The audit
// event a request carries is appended in the same transaction as its
// change, after the chain head it read, so audited writes of all replicas
// form one chain.
//
// # Validation index
//
// Each Store keeps what validation reads (secret hashes, token records,
// members, workspaces with their policies, zoos) in memory, loaded at Open
// and kept current by a watch from the loaded revision, with progress
// notifications asked for four times per MaxStaleness. LookupToken,
// LookupTokenWithPolicy and GetZoo answer from it without a network round
// trip while etcd was heard from within MaxStaleness, and read through to
// etcd otherwise; Ping then fails with the reason (a /readyz of 503). A
// write waits for this replica's index to see it before returning.
//
// # Engine
//
// Engine (engine.go, engine_feed.go) is the storage.Engine over etcd, the
// base the Store is moving onto: an optimistic transaction reading at one
// revision and committing its writes in one Txn that compares every key
// and range it read; the change feed is the watch of its prefix. The Store
// does not use it yet.
//
// # How it can hurt you
//
//   - A token is valid only while its member and workspace keys exist and
//     were created before the token (compared by etcd revision). Re-adding a
//     removed member does not bring back the tokens revoked by the removal,
//     even while their clean-up is still running.
//   - Writes need a quorum: with a majority of members down every write
//     fails with an error wrapping storage.ErrUnavailable after its context
//     deadline, while validation keeps answering from the in-memory index
//     for at most Config.MaxStaleness.
//   - The password file is read once at start; rotate it by restarting.
//   - Open first makes its own TLS connection to every https endpoint and
//     sends it an HTTP/2 preface (preflight.go), because the etcd client
//     reports a TLS failure only as a timeout. A member's log may show
//     these short connections. A member that answers TLS but not the
//     preface within the dial timeout delays start by that much.
//   - A lookup the fresh index misses reads etcd (a token created through
//     another replica may not have reached this index yet), at most
//     Options.MissReads times a second; past that, a miss is answered from
//     the index, so a flood of unknown tokens can make a token created
//     elsewhere a moment ago be refused once.
//   - A revocation of more tokens than fit one transaction (about 30) is
//     decided by a revocation record (bulk.go) that LookupToken, GetToken
//     and ListTokens apply to the records they return (from the index, so
//     another replica's decision shows within the index's delay), and the
//     records are rewritten after it. Anything else that reads token
//     records straight from etcd (a backup by etcdctl, another tool) sees
//     them unrevoked until then. A record left by a crash, or by batches
//     that failed (etcd unavailable), is finished only by the next Open.
//   - An audit event names at most 20,000 revoked tokens, to stay under
//     etcd's request limit (--max-request-bytes, 1.5 MiB by default); a
//     revocation that names more is its event plus continuation events
//     (same time, actor, action, workspace and target) naming the rest in
//     order, appended after the decision and, after a crash, by the next
//     Open (continued.go). Other events may come between them in the chain;
//     a reader of the log joins an event's continuations by those fields.
//     The bbolt store splits events the same way, in one commit. Lowering
//     --max-request-bytes below about 1 MiB makes such revocations fail.
//   - Every audited write compares the audit chain head, so audited writes
//     of the whole cluster commit one at a time (a few hundred per second,
//     docs/scale-out.md): a process's own take turns (chain.go), while
//     writes of different replicas race and retry. A write waits for its
//     turn at most until its WriteTimeout (or its context) ends.
//   - The index holds every token record of the prefix in memory: about
//     1 KB per token.
//   - Token records carry secret hashes and sealed secrets: anyone who can
//     read the prefix can read them. Restrict the prefix with etcd roles.
//   - An Engine Update reruns its closure on every conflict (at most
//     EngineOptions.MaxAttempts times, then ErrConflict): a hot key read by
//     many writers costs a round trip per loser per round. Reads inside an
//     Update are checked at commit, so reading more than Limits().MaxReads
//     keys and ranges fails with ErrTooLarge: read in a View first. Engine
//     revisions are the cluster's, shared with everything else on it, and a
//     compaction anywhere on the cluster ends feeds behind it.
package etcd
