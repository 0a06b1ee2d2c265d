// Package bbolt is the default, embedded store: the domain core
// (storage/core) over Engine, the storage.Engine of one bbolt file for one
// process (the library is imported as bolt). Each Update is one fsynced
// bbolt transaction; the change feed is served from memory. Open migrates
// a schema-2 file (migrate.go); Backup, VerifyFile and Restore (backup.go)
// work on the whole file.
//
// How it can hurt you:
//   - Open migrates a schema-2 file in one transaction: peak memory about
//     2.5 times the file, the file about doubles, and the old build refuses
//     the result (no way back): take a backup first.
//   - One process per file: a second Open fails with ErrLocked after
//     Options.Timeout. Close waits for queued writes; call it after the
//     servers that write have stopped, or their writes fail with ErrClosed.
//   - Open reads every record into the validation index, slower the more
//     are stored.
//   - Engine values point into the mapped file: valid only in the closure.
//     The feed holds only commits since the engine was opened, the last
//     EngineOptions.JournalLength (16 MiB at most): a consumer further
//     behind gets ErrCompacted and must reload. Each open feed holds a
//     goroutine until its ctx ends.
//   - Backup holds a read transaction while it streams: a slow client grows
//     the file and delays writes. Restore checks the file first, but a page
//     pointer aimed outside it can still crash the restoring process.
package bbolt
