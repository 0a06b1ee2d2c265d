package authz

import (
	"log/slog"
	"net/http"
	"strconv"
)

// Headers a proxy sends to forward auth.
const (
	HeaderOriginalURI     = "X-Original-URI"     // nginx (set in the config)
	HeaderForwardedURI    = "X-Forwarded-Uri"    // Caddy, Traefik
	HeaderOriginalMethod  = "X-Original-Method"  // nginx (set in the config)
	HeaderForwardedMethod = "X-Forwarded-Method" // Caddy, Traefik
	// HeaderError carries a denial's JSON body in a response header too:
	// nginx discards the body of an auth_request subrequest, but can hand
	// this header to the client (see docs/gateways.md).
	HeaderError = "X-Authz-Error"
)

// ForwardAuth returns the handler of GET /v1/authz (any method): 200 with
// the identity headers when the original request may proceed, 401 or 403
// with a JSON "detail" when it may not. nginx passes only 401 and 403
// through (anything else becomes a 500 there), so a decision never has
// another status; a storage failure is a 503 and fails closed. log may be
// nil.
func (g *Gateway) ForwardAuth(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method, uri, refused := originalRequest(r.Header)
		if refused != nil {
			writeOutcome(w, *refused)
			return
		}
		t, refused := g.target(method, uri)
		if refused != nil {
			writeOutcome(w, *refused)
			return
		}
		o, err := g.decide(r.Context(), tokenFrom(r.Header.Get), t)
		if err != nil {
			// Never the request or the token: only that the store failed.
			log.LogAttrs(r.Context(), slog.LevelError, "forward auth: decision failed", slog.String("error", err.Error()))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"detail":"the authority could not decide; try again"}`))
			return
		}
		writeOutcome(w, o)
	})
}

// originalRequest reads the original method and URI from one header
// family: X-Original-* (nginx) or X-Forwarded-* (Caddy, Traefik). A
// request with both, or with two values of one header, is refused: Caddy
// and Traefik pass the client's own headers on to forward auth, so the
// second family or value may be the client's, naming a path the proxy does
// not serve.
func originalRequest(h http.Header) (method, uri string, refused *outcome) {
	var got [2][2]string // family, then method and URI
	var present [2]bool
	// Canonical keys, as http.Header stores them.
	families := [2][2]string{{"X-Original-Method", "X-Original-Uri"}, {"X-Forwarded-Method", "X-Forwarded-Uri"}}
	for f, family := range families {
		for i, name := range family {
			switch vs := h[name]; len(vs) {
			case 0:
				continue
			case 1:
				got[f][i], present[f] = vs[0], true
			default:
				o := refuse("the request carries " + name + " more than once: the gateway must send it once and remove the client's")
				return "", "", &o
			}
		}
	}
	switch {
	case present[0] && present[1]:
		o := refuse("the request carries both X-Original-* and X-Forwarded-* headers: the gateway must send one family and remove the client's")
		return "", "", &o
	case present[1]:
		return got[1][0], got[1][1], nil
	}
	return got[0][0], got[0][1], nil
}

func writeOutcome(w http.ResponseWriter, o outcome) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if o.status == http.StatusOK {
		d := o.decision
		if !d.Anonymous() {
			h.Set(HeaderWorkspaceID, d.WorkspaceID)
			h.Set(HeaderTokenID, d.TokenID)
			h.Set(HeaderUserID, d.UserID)
		}
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	body := o.body()
	h.Set(HeaderError, body)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if o.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="tokenauthority"`)
	}
	w.WriteHeader(o.status)
	_, _ = w.Write([]byte(body))
}
