// Package tlsconfig builds the TLS configurations of the service and of its
// clients from PEM files, and names the identity of a client certificate.
//
// Server returns a configuration whose certificate is re-read whenever the
// certificate or key file changes (checked at every handshake), so a
// certificate can be rotated without a restart, and which, given a client
// CA, requires and verifies client certificates (mutual TLS). Client returns
// the configuration a caller needs: the CA that signed the server's
// certificate and, for mutual TLS, its own certificate and key. The
// environment variables TOKENAUTHORITY_TLS_CA, TOKENAUTHORITY_TLS_CERT and
// TOKENAUTHORITY_TLS_KEY name those files for command-line clients
// (ClientFilesFromEnv).
//
// Identities turns a verified client certificate into the names a service
// credential can be bound to: its SPIFFE URI SANs and its DNS SANs.
//
// How it can hurt you: every certificate the client CA signs is trusted, and
// a credential bound to a DNS name is granted to any such certificate that
// carries that name, so the client CA must be one that signs only this
// service's callers, never a public or company-wide CA. The client CA file
// is read once at start; replacing it needs a restart. A certificate file
// and key file that do not match (for instance halfway through a
// non-atomic copy) keep the previous certificate in service until they
// match again; if they never do, the old certificate serves until it
// expires. Private key files must be 0600 (see secretfile), like every
// other secret the service reads.
package tlsconfig
