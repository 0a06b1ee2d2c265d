package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/http"

	"tokenauthority/principal"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is sent with every response of the page: scripts,
// styles and requests only from the page's own origin, nothing inline, and
// never inside a frame of another site.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Routes returns the handlers of the page keyed by http.ServeMux pattern:
// the assets under /ui/, the same page at /create_token for the SDK (a link
// that breaks CheckLink gets a refusal with nothing to press instead), and
// /ui/session, which says whether the request is signed in as a workspace
// member (member mode) or must bring a service credential (operator mode).
func Routes() map[string]http.Handler {
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	page := http.NewServeMux()
	page.Handle("/ui/", http.StripPrefix("/ui/", http.FileServerFS(files)))
	page.HandleFunc("/ui/session", serveSession)
	return map[string]http.Handler{
		"GET /ui/": secured(page),
		"GET /create_token": secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := CheckLink(r.URL.Query()); err != nil {
				refuseLink(w, err)
				return
			}
			http.ServeFileFS(w, r, files, "index.html")
		})),
	}
}

// session is the answer of /ui/session.
type session struct {
	// Mode is "member" when a trusted proxy signed the request in, else
	// "operator".
	Mode string `json:"mode"`
	// User is the member's user id in member mode.
	User string `json:"user,omitempty"`
}

func serveSession(w http.ResponseWriter, r *http.Request) {
	s := session{Mode: "operator"}
	if user, ok := principal.TrustedUser(r.Context()); ok {
		s = session{Mode: "member", User: user}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
}

// refuseLink answers a /create_token link that breaks CheckLink with a page
// that says why and offers nothing to press; it never repeats the link.
func refuseLink(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = fmt.Fprintf(w, `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workspace Tokens</title>
<link rel="stylesheet" href="/ui/style.css">
</head>
<body>
<header class="bar"><h1>Workspace Tokens</h1></header>
<main>
<section class="alert" aria-labelledby="link-title">
<h2 id="link-title">This link cannot be used</h2>
<p id="link-error">This page creates tokens for a program that asks for one, but %s, so no token can be made from it.</p>
<p>If you ran the program yourself, run it again. If someone sent you this link, do not use it.</p>
</section>
</main>
</body>
</html>
`, html.EscapeString(err.Error()))
}

// secured adds the security headers of the page.
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}
