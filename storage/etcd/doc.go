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
//   - A revocation of more tokens than fit one transaction (about 30) is
//     decided by a revocation record (bulk.go) that LookupToken, GetToken
//     and ListTokens apply to the records they return (from the index, so
//     another replica's decision shows within the index's delay), and the
//     records are rewritten after it. Anything else that reads token
//     records straight from etcd (a backup by etcdctl, another tool) sees
//     them unrevoked until then. A record left by a crash, or by batches
//     that failed (etcd unavailable), is finished only by the next Open.
//   - Every audited write compares the audit chain head, so audited writes
//     across replicas serialize and retry on contention (a few hundred per
//     second per cluster).
//   - The index holds every token record of the prefix in memory: about
//     1 KB per token.
//   - Token records carry secret hashes and sealed secrets: anyone who can
//     read the prefix can read them. Restrict the prefix with etcd roles.
package etcd
