// Package seal encrypts secrets that must be revealed again later (the
// "copy" action on a token) with AES-256-GCM under one service key.
//
// Lookups never need it: tokens are found by their SHA-256. The sealed copy
// exists only so that an owner can copy a token after creation, as with
// Google Cloud's GetKeyString or Unkey's recoverable keys.
//
// How it can hurt you: whoever holds the key file can reveal every stored
// token, so it lives apart from the database, readable by its owner only.
// Losing it loses reveal, not validation. Bind each sealed value to its
// record with the aad argument (for example the token id), or a sealed value
// copied from one record to another would open there too. A random 96-bit
// nonce allows about 2^32 seals per key before nonce reuse becomes a risk.
package seal
