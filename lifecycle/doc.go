// Package lifecycle holds the rules of a token's life as pure functions over
// a token and a time: its state, whether it is revoked as of a moment, and
// (as the lifecycle grows) grace periods, scopes and workspace policy. The
// server, the storage backends and the access decision all call these
// functions, so a rule lives in exactly one place.
//
// How it can hurt you: every caller trusts these answers. A state added to
// the Token message but not to State is reported as active, so State must
// change whenever the record gains a way to stop a token; the table test in
// state_test.go walks every state. The functions take "now" as an argument
// and never read the clock, so a caller that passes a stale or zero time
// gets an answer for that time.
package lifecycle
