// Package validindex is the in-memory validation index: for every stored
// token, keyed by the SHA-256 of its secret, the token record, and beside
// the tokens the memberships and workspace token policies a verdict reads,
// and the zoos an access decision reads. A store loads it once when it
// opens and applies every commit that changes one of those inputs to it
// after the commit is durable and before the writers are answered, so a
// lookup never answers from older data than an acknowledged write.
// Validation is then a hash, a table lookup, two reads of small arrays
// (the token's membership and workspace cells, whose numbers its record
// holds; see cells) and the decoding of one token from memory, with no
// read transaction. It knows nothing of any
// backend: a bbolt store feeds it from its commit loop, another backend
// from whatever tells it of changes (a watch).
//
// Each token is kept as the protobuf encoding of its pb.Token, in a table
// of its own rather than a Go map: 8 bytes of open-addressed slot and the
// record (secret hash, length, encoding) packed into large pointer-free
// chunks, with nothing for the garbage collector to scan; see table. A
// lookup reads the slot and the record and decodes it into a new record
// the caller owns (Lookup: one allocation), or into a plain record the
// caller passes and may reuse (LookupInto: none once the record has held a
// token), whose strings point into the index's record; the sealed secret
// is not kept. Its measurements are in
// docs/benchmarks.md ("validindex").
//
// How it can hurt you: LookupInto overwrites the caller's record and what
// its token points to (timestamps, the scopes' backing arrays): a caller
// must not reuse a record whose token it handed on. A looked-up record's
// strings share the index's memory, and the token policies and zoos it hands out are shared by every
// lookup: never change them (the strings cannot be changed; the policies and
// zoos must not be). A record replaced or deleted
// stays in memory until its chunk is compacted and no string points into it;
// a chunk is compacted once it is more garbage than live. A new field of
// pb.Token must be added to the decoder's fast path, or every lookup takes
// proto.Unmarshal's slower path (a test fails until it is). It holds every
// token in memory, so its size follows the store's. A change that a backend
// forgets to apply makes validation answer from the old state until the next
// open: every write path that changes a token, a membership, a workspace or
// a zoo must go through the backend's one place that feeds the index.
package validindex
