// Package audit provides the audit log's events and their hash chain: the
// canonical encoding an event's hash is computed over, sealing an event onto
// the chain, checking a chain and naming the first event where it breaks,
// list filters, and the context that carries a request's pending event to
// the store, which records it in the same transaction as the change.
//
// How it can hurt you: the chain proves that nothing inside the log was
// edited, removed or reordered, not that the log is complete at its end. An
// attacker who can write the store file can cut off the newest events and
// rewrite the head record to match; only a copy kept elsewhere (the JSON
// lines stream, or a head hash noted by an operator) shows that. The same
// holds at the front once a retention sweep has removed events (retention.go):
// the chain is checked from the checkpoint the sweep recorded, which proves
// the kept events intact and in order, not that the checkpoint is where the
// sweep left it; note checkpoint_sequence elsewhere to prove that too. Changing
// the canonical encoding breaks every stored chain: add a new version
// rather than edit this one. And an event is only as truthful as what the
// server put in it: never put a secret into any field, since the log is
// readable by every admin and is never rewritten.
package audit
