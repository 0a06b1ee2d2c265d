package authz_test

import (
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"tokenauthority/authz"
	"tokenauthority/internal/pathcases"
)

// naiveSteps are the ways a model server behind the gateway might read a
// request path that the gateway forwarded unchanged. Every combination of
// them is tried; an allowed path must resolve inside its zoo under each.
var naiveSteps = []struct {
	name string
	fn   func(string) string
}{
	// Go's http.Server, nginx and most servers end the path at '#' only
	// when they drop fragments; others keep it as a path character.
	{"cut at #", func(p string) string { p, _, _ = strings.Cut(p, "#"); return p }},
	// Servlet containers drop ";params" from every segment.
	{"drop ;params", dropParams},
	// Windows file servers take '\' as a separator and drop trailing dots
	// and spaces from names.
	{`\ is /`, func(p string) string { return strings.ReplaceAll(p, `\`, "/") }},
	{"trim dots and spaces", trimDotsSpaces},
	// Servers that read UTF-8 leniently (overlong forms) and fold
	// fullwidth forms to ASCII (NFKC).
	{"fold non-ASCII", foldLenient},
	{"lower-case", strings.ToLower},
}

// naiveResolve returns every path a naive server could make of the request
// target uri: split at '?', decoded zero, one or two times, then every
// subset of naiveSteps (each before and after decoding), then path.Clean.
func naiveResolve(uri string) []string {
	p, _, _ := strings.Cut(uri, "?")
	var out []string
	forms := []string{p}
	once, err := url.PathUnescape(p)
	if err == nil {
		forms = append(forms, once)
		if twice, err := url.PathUnescape(once); err == nil {
			forms = append(forms, twice)
		}
	}
	for _, f := range forms {
		for mask := 0; mask < 1<<len(naiveSteps); mask++ {
			s := f
			for i, st := range naiveSteps {
				if mask&(1<<i) != 0 {
					s = st.fn(s)
				}
			}
			// A decode after the steps too: a server that splits
			// first and decodes each part.
			out = append(out, path.Clean("/"+s))
			if d, err := url.PathUnescape(s); err == nil {
				out = append(out, path.Clean("/"+d))
			}
		}
	}
	return out
}

func dropParams(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, ";")
	}
	return strings.Join(segs, "/")
}

func trimDotsSpaces(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		switch t := strings.TrimRight(s, ". "); {
		case strings.Trim(s, ". ") == "" && strings.Contains(s, ".."):
			segs[i] = ".." // "...", ".. ": a parent to Windows
		case t != "" && s != "." && s != "..":
			segs[i] = t
		}
	}
	return strings.Join(segs, "/")
}

// foldLenient decodes UTF-8 without refusing overlong forms, and maps
// fullwidth ASCII (U+FF01..U+FF5E) to ASCII.
func foldLenient(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		var r rune
		n := 1
		switch {
		case c < 0x80:
			r = rune(c)
		case c&0xe0 == 0xc0 && i+1 < len(p):
			r, n = rune(c&0x1f)<<6|rune(p[i+1]&0x3f), 2
		case c&0xf0 == 0xe0 && i+2 < len(p):
			r, n = rune(c&0x0f)<<12|rune(p[i+1]&0x3f)<<6|rune(p[i+2]&0x3f), 3
		default:
			r, n = utf8.DecodeRuneInString(p[i:])
		}
		if r >= 0xff01 && r <= 0xff5e {
			r -= 0xfee0
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// zooPrefix is where the default rules put a target's files.
func zooPrefix(t authz.Target) string {
	if t.Operation == cloud {
		return "/zoo/v1/inference/" + t.WorkspaceID + "/" + t.ZooID
	}
	return "/zoo/v1/public/models/" + t.WorkspaceID + "/" + t.ZooID
}

// checkInsideZoo fails when Match allows uri but a naive server could
// resolve it outside the zoo Match captured.
func checkInsideZoo(t *testing.T, rs *authz.Rules, method, uri string) {
	t.Helper()
	got, err := rs.Match(method, uri)
	if err != nil {
		return
	}
	prefix := zooPrefix(got)
	for _, p := range naiveResolve(uri) {
		if p != prefix && !strings.HasPrefix(p, prefix+"/") {
			t.Fatalf("Match(%q) allows %s, but a naive server may serve %q", uri, prefix, p)
		}
	}
}

// FuzzNaiveServer holds the path check to a model of naive model servers:
// any path it allows resolves inside the zoo it captured, however the
// server decodes, splits and cleans it.
func FuzzNaiveServer(f *testing.F) {
	rs := authz.MustDefaultRules()
	for _, uri := range pathcases.Attacks() {
		f.Add(uri)
	}
	for _, uri := range pathcases.Plain() {
		f.Add(uri)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		checkInsideZoo(t, rs, "GET", uri)
		// Most inputs match no rule; under a zoo's prefix every one
		// reaches the check of the part a client chooses.
		checkInsideZoo(t, rs, "GET", "/zoo/v1/public/models/acme/pub/"+uri)
	})
}

// TestNaiveServerPaths runs the fuzz model over the fixed attack and plain
// paths: every attack is refused, every plain path matches.
func TestNaiveServerPaths(t *testing.T) {
	t.Parallel()
	rs := authz.MustDefaultRules()
	for _, uri := range pathcases.Attacks() {
		t.Run(uri, func(t *testing.T) {
			t.Parallel()
			checkInsideZoo(t, rs, "GET", uri)
			if got, err := rs.Match("GET", uri); err == nil {
				t.Errorf("Match(%q) = %+v; want it refused", uri, got)
			}
		})
	}
	for _, uri := range pathcases.Plain() {
		t.Run(uri, func(t *testing.T) {
			t.Parallel()
			if _, err := rs.Match("GET", uri); err != nil {
				t.Errorf("Match(%q) = %v; want a match", uri, err)
			}
			checkInsideZoo(t, rs, "GET", uri)
		})
	}
}
