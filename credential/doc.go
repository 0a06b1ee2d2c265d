// Package credential holds the service credentials that callers of the admin
// and validator APIs present as "authorization: Bearer <credential>".
//
// Only SHA-256 hashes of credentials are kept in memory, and lookups go by
// hash, so the process never compares a presented secret byte by byte. The
// credentials file lists hashes too: it can be read by anyone who may read the
// configuration without handing out a credential.
//
// An entry can also be bound to a client certificate identity (a SPIFFE ID
// or a DNS name, see Load), so that a caller on a mutual TLS connection
// needs no bearer secret.
//
// How it can hurt you: a Set is immutable once built; changing credentials
// means restarting the server with a new file. A client_identity trusts
// whatever the configured client CA signs with that name, so the binding is
// only as narrow as that CA. The bootstrap credential file holds a real
// secret and is refused when group or others can read it; the credentials
// file holds only hashes and is not checked that way.
package credential
