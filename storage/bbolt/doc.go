// Package bbolt is the token authority's embedded store, the default: the
// domain core (storage/core) over Engine, the storage.Engine of one bbolt
// file for one process. The bbolt library is imported as bolt, so that the
// two names never meet.
//
// Engine (engine.go, engine_feed.go) runs each Update as one bbolt
// read-write transaction, fsynced before it returns, that stores its
// revision with the data; the change feed the core's validation index
// follows is served from memory. Open migrates a file of the
// schema-2 layout (one bucket per kind of record) in one transaction
// (migrate.go). Backup, VerifyFile and Restore (backup.go) work on the
// file as a whole.
//
// How it can hurt you:
//   - Open migrates a schema-2 file in one transaction: peak memory about
//     2.5 times the file, the file about doubles, and there is no way back
//     (the old build refuses the migrated file): take a backup first.
//   - One process per file: a second Open fails with ErrLocked after
//     Options.Timeout. Close waits for queued writes; call it after the
//     servers that write have stopped, or their writes fail with ErrClosed.
//   - Open reads every record into the validation index and takes longer
//     the more are stored; it then hands the file's pages back to the page
//     cache (release_linux.go).
//   - The Engine's values point into the mapped file and are valid only in
//     the closure. Its feed holds only commits since the engine was opened,
//     the last EngineOptions.JournalLength of them (16 MiB at most): a
//     consumer resuming from before, or further behind, gets ErrCompacted
//     and must reload. Each open feed holds a goroutine until its ctx ends:
//     cancel it.
//   - Backup holds one read transaction while it streams: a slow client
//     makes the file grow and delays writes that remap it. Restore checks the
//     file first, but bbolt is not hardened against every damaged file: a
//     page pointer aimed outside it can still crash the restoring process.
package bbolt
