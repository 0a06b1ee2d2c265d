package rest

import (
	"net/http"
	"net/netip"
	"strings"

	"tokenauthority/server"
)

// TrustedUser turns on member mode: a request from one of Proxies (a single
// sign-on proxy such as oauth2-proxy) that carries Header acts as the user it
// names, with a workspace member's limited rights (see server.TrustedUser).
// The proxy must overwrite the header on every request it forwards; the same
// header from any other address is ignored, so the caller needs a service
// credential as usual.
type TrustedUser struct {
	// Header names the user, e.g. "X-Forwarded-User".
	Header string
	// Proxies are the addresses the header is believed from.
	Proxies []netip.Prefix
}

// identify marks requests of trusted users before next sees them.
func (t *TrustedUser) identify(next http.Handler) http.Handler {
	if t == nil || t.Header == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, ok := t.user(r); ok {
			r = r.WithContext(server.WithTrustedUser(r.Context(), user))
		}
		next.ServeHTTP(w, r)
	})
}

// user returns the user a request is made for, when a trusted proxy says so.
func (t *TrustedUser) user(r *http.Request) (string, bool) {
	values := r.Header.Values(t.Header)
	if len(values) != 1 {
		return "", false // absent, or ambiguous
	}
	user := strings.TrimSpace(values[0])
	if user == "" || !t.trusts(r.RemoteAddr) {
		return "", false
	}
	// The proxy authenticates people by their cookie, which a browser also
	// sends with requests another site makes it send. Browsers say where a
	// request comes from; only the page itself (or the address bar) may act.
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return user, true
	}
	return "", false
}

func (t *TrustedUser) trusts(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range t.Proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ParseProxies parses a comma-separated list of CIDR prefixes or single
// addresses.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
