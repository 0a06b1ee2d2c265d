// Package seal encrypts secrets that must be revealed again later (the
// "copy" action on a token) with AES-256-GCM under one service key, or
// under the newest key of a Ring when the key is rotated.
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
// A Ring opens only with the key a value names, so a key dropped from the
// ring makes its values unreadable: drop one only after every value sealed
// under it was re-sealed (Ring.Reseal) and none opens with it (Ring.KeyOf).
package seal
