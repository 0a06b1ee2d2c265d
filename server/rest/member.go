package rest

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"google.golang.org/grpc/peer"

	"tokenauthority/principal"
)

// TrustedUser turns on member mode: a request from one of Proxies (a single
// sign-on proxy such as oauth2-proxy) that carries Header acts as the user it
// names, with a workspace member's limited rights (see principal.TrustedUser).
// The proxy must overwrite the header on every request it forwards; the same
// header from any other address is ignored, so the caller needs a service
// credential as usual.
type TrustedUser struct {
	// Header names the user, e.g. "X-Forwarded-User".
	Header string
	// Proxies are the addresses the header is believed from.
	Proxies []netip.Prefix
	// AllowedOrigins are further web origins (as ParseOrigins returns
	// them) whose pages may change things for a signed-in member, beside
	// the hub's own.
	AllowedOrigins []string
}

// identify marks requests of trusted users before next sees them.
func (t *TrustedUser) identify(next http.Handler) http.Handler {
	if t == nil || t.Header == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.trusts(r.RemoteAddr) {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(withForwardedPeer(r.Context(), r))
		if user, ok := t.user(r); ok {
			// One place for every entry point a member reaches: the
			// gateway, the page's API calls, the SDK page's create.
			if code, grpcCode, detail := refuseCrossSite(r, t.AllowedOrigins); code != 0 {
				writeError(w, code, errorBody{Code: grpcCode, Message: detail, Detail: detail})
				return
			}
			r = r.WithContext(principal.WithTrustedUser(r.Context(), user))
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

// withForwardedPeer makes the client a trusted proxy forwarded the request
// for its peer: the last address of X-Forwarded-For, the one the proxy
// itself appended. Audit events, rate limits and a seed's pollers then name
// the client rather than the proxy. Without the header, or with an entry
// that is not an address, the peer stays the proxy.
func withForwardedPeer(ctx context.Context, r *http.Request) context.Context {
	values := r.Header.Values("X-Forwarded-For")
	if len(values) == 0 {
		return ctx
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil || addr.Zone() != "" {
		return ctx
	}
	p := &peer.Peer{Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr.Unmap(), 0))}
	if old, ok := peer.FromContext(ctx); ok {
		p.AuthInfo = old.AuthInfo
	}
	return peer.NewContext(ctx, p)
}
