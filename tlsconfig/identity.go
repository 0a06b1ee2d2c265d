package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
)

// Identities returns the names a service credential can be bound to, from
// a client certificate: each SPIFFE URI SAN as written ("spiffe://..."),
// then each DNS SAN in lower case. The certificate must already be verified;
// VerifiedLeaf returns such a one.
func Identities(cert *x509.Certificate) []string {
	if cert == nil {
		return nil
	}
	var ids []string
	for _, u := range cert.URIs {
		if u.Scheme == "spiffe" {
			ids = append(ids, u.String())
		}
	}
	for _, name := range cert.DNSNames {
		ids = append(ids, strings.ToLower(name))
	}
	return ids
}

// VerifiedLeaf returns the client certificate of a connection if the
// handshake verified it against the client CA, else nil. A certificate the
// client merely presented, unverified, is never returned.
func VerifiedLeaf(state *tls.ConnectionState) *x509.Certificate {
	if state == nil || len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return nil
	}
	return state.VerifiedChains[0][0]
}
