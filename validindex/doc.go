// Package validindex is the in-memory validation index: for every stored
// token, keyed by the SHA-256 of its secret, the token record, and beside
// the tokens the memberships and workspace token policies a verdict reads.
// A store loads it once when it opens and applies every commit that changes
// one of those inputs to it after the commit is durable and before the
// writers are answered, so a lookup never answers from older data than an
// acknowledged write. Validation is then a hash and a few map lookups, with
// no read transaction and no decoding. It knows nothing of any backend: a
// bbolt store feeds it from its commit loop, another backend from whatever
// tells it of changes (a watch).
//
// How it can hurt you: the records it hands out are shared by every lookup
// and must never be changed; copy before editing. It holds every token in
// memory (a few hundred bytes each), so its size follows the store's. A
// change that a backend forgets to apply makes validation answer from the
// old state until the next open: every write path that changes a token,
// a membership or a workspace must go through the backend's one place that
// feeds the index.
package validindex
