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
		uri := firstHeader(r.Header, HeaderOriginalURI, HeaderForwardedURI)
		method := firstHeader(r.Header, HeaderOriginalMethod, HeaderForwardedMethod)
		t, refused := g.target(method, uri)
		if refused != nil {
			writeOutcome(w, *refused)
			return
		}
		buf := g.buffer()
		defer g.release(buf)
		o, err := g.decide(r.Context(), tokenFrom(r.Header.Get), t, buf)
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

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
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
