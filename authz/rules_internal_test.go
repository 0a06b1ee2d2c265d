package authz

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// splitPathReference is splitPath written plainly (split, then check,
// decode and check every segment, then the query), which splitPath must
// agree with.
func splitPathReference(uri string) ([]string, uint64, error) {
	const pchar = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@"
	if len(uri) > MaxURILen {
		return nil, 0, fmt.Errorf("%w: longer than %d bytes", ErrBadPath, MaxURILen)
	}
	p, query, hasQuery := strings.Cut(uri, "?")
	if !strings.HasPrefix(p, "/") {
		return nil, 0, fmt.Errorf("%w: not an absolute path", ErrBadPath)
	}
	raw := strings.Split(strings.TrimSuffix(p[1:], "/"), "/")
	segs := make([]string, len(raw))
	var escaped uint64
	for i, r := range raw {
		if strings.Contains(r, "%") && i < 64 {
			escaped |= 1 << i
		}
		for j := 0; j < len(r); j++ {
			if r[j] != '%' && !strings.Contains(pchar, r[j:j+1]) {
				return nil, 0, badByte(r[j])
			}
		}
		for j := strings.IndexByte(r, '%'); j >= 0; j = strings.IndexByte(r, '%') {
			if len(r) < j+3 || !strings.ContainsRune("0123456789abcdefABCDEF", rune(r[j+1])) || !strings.ContainsRune("0123456789abcdefABCDEF", rune(r[j+2])) {
				return nil, 0, fmt.Errorf("%w: bad percent-encoding", ErrBadPath)
			}
			c, err := strconv.ParseUint(r[j+1:j+3], 16, 8)
			if err != nil {
				return nil, 0, err
			}
			if c < 0x20 || c > 0x7e || strings.ContainsRune("%/\\;#?", rune(c)) {
				return nil, 0, checkEscaped(byte(c))
			}
			r = r[j+3:]
		}
		s, err := url.PathUnescape(raw[i])
		if err != nil {
			return nil, 0, fmt.Errorf("%w: bad percent-encoding", ErrBadPath)
		}
		switch {
		case s == "":
			return nil, 0, fmt.Errorf("%w: empty segment (//)", ErrBadPath)
		case strings.Trim(s, ". ") == "":
			return nil, 0, fmt.Errorf("%w: dot segment", ErrBadPath)
		}
		segs[i] = s
	}
	if hasQuery {
		for j := 0; j < len(query); j++ {
			if !strings.Contains(pchar+"/?;%", query[j:j+1]) {
				return nil, 0, fmt.Errorf("%w (in the query)", badByte(query[j]))
			}
		}
	}
	return segs, escaped, nil
}

// compareSplit checks that splitPath and splitPathReference return the same
// segments or the same error for uri.
func compareSplit(t *testing.T, uri string) {
	t.Helper()
	want, wantEscaped, wantErr := splitPathReference(uri)
	got, escaped, err := splitPath(uri, nil)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("splitPath(%q) error %v, want %v", uri, err, wantErr)
	}
	if err != nil && !errors.Is(err, ErrBadPath) {
		t.Fatalf("splitPath(%q) error %v is not ErrBadPath", uri, err)
	}
	if !slices.Equal(got, want) || escaped != wantEscaped {
		t.Fatalf("splitPath(%q) = %q, %b; want %q, %b", uri, got, escaped, want, wantEscaped)
	}
}

func TestSplitPath(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{
		"", "/", "//", "/a", "/a/", "/a//b", "/a/b/c?x=/../", "/a#f?g", "/a?b#c", "?/a", "#/a", "a/b",
		"/a/./b", "/a/../b", "/%2e%2E/b", "/a%2Fb", "/a%5cb", `/a\b`, "/a%zz", "/a%", "/a%4", "/my%20model.bin",
		"/a\x00b", "/a%00", "/a\x7fb", "/a%7F", "/a%5c%00", "/%00%5c", "/\x01\\", "/\\\x01", "/a/b/", "/a/b//",
		"/a#b", "/a?b#c", "/a;b", "/..;/a", "/a/%25", "/a%252e", "/%2e%2e%3b", "/a%23", "/a%3F", "/a%3b", "/a%c3%a9", "/a\xc3\xa9",
		"/\uff0e\uff0e/a", "/\xc0\xae", "/.../a", "/.. /a", "/..%20/a", "/%20", "/ ", "/a b", "/a\"b", "/a<b>", "/a[b]", "/a{b}|^`",
		"/a!$&'()*+,=:@~-_.b", "/a?b;c/?d%zz", "/a?b c", "/a?b#", "/a?\xff", "/a?b\\", "/a%7e%41", "/a%7f", "/a%1", "/a%%41",
		"/" + strings.Repeat("s/", 40), "/" + strings.Repeat("a", MaxURILen), "/" + strings.Repeat("a", MaxURILen-1),
	} {
		t.Run(uri, func(t *testing.T) {
			t.Parallel()
			compareSplit(t, uri)
		})
	}
}

// FuzzSplitPath holds splitPath to splitPathReference on any URI.
func FuzzSplitPath(f *testing.F) {
	f.Add("/zoo/v1/inference/acme/priv/v1/chat/completions?x=1")
	f.Add("/zoo/v1/public/models/acme/pub/%2e%2e/%5Cm%00#frag")
	f.Add("/a//b/./c/")
	f.Fuzz(func(t *testing.T, uri string) { compareSplit(t, uri) })
}

// TestMatchAllocates nothing for the paths a gateway sends.
func TestMatchAllocates(t *testing.T) {
	rs := MustDefaultRules()
	for _, uri := range []string{
		"/zoo/v1/inference/acme/priv/v1/chat/completions",
		"/zoo/v1/public/models/acme/pub/org/model/resolve/main/model.safetensors?download=true",
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := rs.Match("POST", uri); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Match(%q) allocates %v times, want 0", uri, allocs)
		}
	}
}
