// Package credential holds the service credentials that callers of the admin
// and validator APIs present as "authorization: Bearer <credential>".
//
// Only SHA-256 hashes of credentials are kept in memory, and lookups go by
// hash, so the process never compares a presented secret byte by byte. The
// credentials file lists hashes too: it can be read by anyone who may read the
// configuration without handing out a credential.
//
// A Set is immutable once built; changing credentials means restarting the
// server with a new file.
package credential
