// Package lifecycle holds the rules of a token's life as pure functions over
// a token, its workspace's token policy and a time: its state (active,
// disabled, expired, revoked), the verdict on a presented token, grace
// periods, scopes, the lifetime limits at creation, change and roll, and the
// family rules of rolls and refreshes. The server, the storage backends and
// the access decision all call these functions, so a rule lives in exactly
// one place; storage applies the family rules inside its transactions.
//
// How it can hurt you: every caller trusts these answers. A way to stop a
// token that is added to the record but not to StateUnder is reported as
// active, so StateUnder and Reason must change whenever the record gains
// one; the tables in state_test.go walk every state and reason. The
// functions take "now" as an argument and never read the clock, so a caller
// that passes a stale or zero time gets an answer for that time. A nil
// policy means no workspace limits: a caller that forgets to read the policy
// lets tokens outlive a lowered limit. The family limit reads the family's
// start from the family id (ids carry their creation time), so a record
// whose family id is not a token id falls back to its own create time.
// RepeatRefresh hands a successor out again to whoever presents the old
// secret within the reuse interval: a longer interval is a longer window in
// which a copied secret goes unnoticed.
package lifecycle
