package rest

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
)

// ParseOrigins parses --allowed-origins: a comma-separated list of web
// origins, each "scheme://host[:port]" with scheme http or https and
// nothing after the host. It returns them in the form browsers send in
// Origin (lowercase, default port left out).
func ParseOrigins(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		o, ok := normalOrigin(f)
		if !ok {
			return nil, fmt.Errorf("%q is not an origin such as https://hub.example.com", f)
		}
		out = append(out, o)
	}
	return out, nil
}

// normalOrigin returns an origin in the form browsers send it, or false when
// s is not a plain http or https origin.
func normalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	switch {
	case scheme == "http":
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return "", false
	}
	return scheme + "://" + host, true
}

// refuseCrossSite is the rule for a state-changing request that the trusted
// proxy signed in (member mode). The proxy authenticates people by a
// cookie, which a browser also sends with requests another site makes it
// send, and browsers send Sec-Fetch-Site only to HTTPS and localhost, so:
//
//	method GET, HEAD, OPTIONS                 -> allowed (nothing changes)
//	Content-Type not application/json         -> 415 (what a form or a
//	                                             no-cors fetch can send)
//	Origin absent                             -> allowed (not a browser's
//	                                             cross-site request)
//	Origin the hub's own, or in allowed       -> allowed
//	any other Origin, "null" included         -> 403
//
// The hub's own origin is the request's Host with the scheme of the
// connection, or of X-Forwarded-Proto from the proxy. It returns 0 when the
// request may go on, else the HTTP status and the gRPC code and sentence of
// the answer.
func refuseCrossSite(r *http.Request, allowed []string) (int, codes.Code, string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return 0, codes.OK, ""
	}
	ct := r.Header.Values("Content-Type")
	mt, _, err := mime.ParseMediaType(strings.Join(ct, ","))
	if len(ct) != 1 || err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, codes.InvalidArgument,
			"A signed-in member's request that changes something must be sent with Content-Type: application/json."
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return 0, codes.OK, ""
	}
	if len(origins) == 1 {
		if o, ok := normalOrigin(origins[0]); ok && (o == ownOrigin(r) || slices.Contains(allowed, o)) {
			return 0, codes.OK, ""
		}
	}
	return http.StatusForbidden, codes.PermissionDenied,
		"The request comes from a page of another site (Origin " + quoteOrigin(origins) + "); only this hub's own page, or an origin of --allowed-origins, may act for a signed-in member."
}

// ownOrigin is the origin of the hub as the browser reached it.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Values("X-Forwarded-Proto"); len(p) == 1 && (p[0] == "http" || p[0] == "https") {
		scheme = p[0]
	}
	o, _ := normalOrigin(scheme + "://" + r.Host)
	return o
}

// quoteOrigin shows the Origin header in an error, cut short: it is the
// caller's own text.
func quoteOrigin(values []string) string {
	s := strings.Join(values, ", ")
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return fmt.Sprintf("%q", s)
}
