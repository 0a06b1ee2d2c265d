// Package token defines the format of workspace token secrets and public
// token ids, and the operations that need nothing but the string itself:
// minting, a storage-free shape and checksum check, hashing for lookup and
// masking for display. It also holds the rule for the seed the SDK's `token
// create` picks its token up with ([CheckSeed]), which the services and the
// page's /create_token link both apply.
//
// A secret looks like
//
//	tka_<43 random characters of [0-9A-Za-z]><6 checksum characters>
//
// The fixed prefix and the CRC32 checksum (the scheme GitHub uses for its
// tokens) let secret scanners find leaked tokens with [Pattern] and tell them
// from random strings without asking the authority, and let the authority
// reject typos and garbage before touching storage. The checksum is not a
// MAC: anyone can compute it, so [Check] says only that a string could be a
// token, never that it is one.
//
// How it can hurt you: a secret is a bearer credential. Never log it, never
// put it in an error, and store only [Hash] of it; use [Mask] wherever a
// person needs to recognise a token in a list. A seed is a secret too: until
// its token is picked up, whoever holds it can take the token, so
// [CheckSeed] refuses short and guessable ones and its errors never repeat
// the seed.
package token
