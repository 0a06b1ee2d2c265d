// Package ratelimit limits how often each client (a key such as a client
// address, or the hash of a token) may do something: one token bucket per
// key (golang.org/x/time/rate), in a map whose size is bounded.
//
// A Limiter is shared by every endpoint that should draw on the same
// budget; the keys say whose budget it is. AllowAddr keys a network
// address by its client, as AddrKey writes it: the IP, and for IPv6 its /64
// network, since one host usually holds a whole /64. Its buckets and those
// of Allow with a string are apart, so one Limiter takes addresses one way
// only.
//
// How it can hurt you: every client behind one proxy or NAT shares one
// address, and so one budget; size the rate for the busiest such address
// (or disable the limit with a zero rate) rather than for one person. The
// limits live in one process's memory: they restart empty, and replicas
// each allow the full rate. When more distinct keys than Config.MaxKeys are
// active at once, the buckets that are full anyway are dropped first (which
// loses nothing), then arbitrary ones, whose clients start over with a full
// burst: memory stays bounded at the price of leniency under a flood of
// addresses.
package ratelimit
