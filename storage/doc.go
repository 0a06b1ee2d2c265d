// Package storage declares the stores' contracts: Backend (contract.go),
// which the server holds, with its records (records.go) and sentinel
// errors (errors.go), and Engine (engine.go), the transactional ordered
// key-value store with a change feed over which storage/core implements
// Backend for storage/bbolt (one file, one process) and storage/etcd (a
// cluster shared by replicas). rules.go holds the record rules.
//
// # How it can hurt you
//
//   - A method added to Backend needs a storagetest case too: nothing
//     but review catches its absence.
//   - A rule applied anywhere but rules.go lets the engines drift apart.
//   - Snapshotter is optional: answer ErrUnsupported without it.
//   - An Update closure may run more than once (etcd, on a conflict): no
//     side effects, no time.Now or fresh ids inside. Bytes a transaction
//     hands out and kept without a copy later read another key's bytes.
//   - A transaction past Engine.Limits fails whole with ErrTooLarge;
//     etcd's are small (128 writes and reads), so big changes are split
//     and their parts commit apart.
//   - A feed consumer that retries after ErrCompacted from the same
//     revision loops forever: reload.
//   - A domain error that wraps no sentinel reaches clients as Internal.
package storage
