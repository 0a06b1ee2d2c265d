// Package usage records when tokens were last used without writing to disk
// on the request path. Validation calls Recorder.Seen, which only updates a
// sharded in-memory table; a background loop (Recorder.Run) writes what was
// seen in one commit per flush, at most once per token per interval, and
// the daemon calls Recorder.FlushAll on graceful shutdown.
//
// How it can hurt you: last-used times live in memory until they are
// flushed, so a crash (kill -9, power loss) loses the uses of roughly the
// last interval plus one check period; nothing else is lost, because the
// recorder writes only last_used_time. Reads of a token show the last
// flushed time, which may lag the newest use by that much. A Writer that
// keeps failing keeps the pending uses in memory (one entry per token) and
// retries them on every check. Times come from the caller of Seen and from
// Options.Now; a clock that jumps backwards delays writes, never repeats
// them within an interval.
package usage
