package authz

import (
	"fmt"
	"strings"
)

// A plain path is what splitPath accepts: '/' and then segments of RFC 3986
// pchar (unreserved, sub-delims, ':' and '@') without ';', up to an
// optional query after '?'. Percent-encoding is allowed for printable
// ASCII other than '%', '/', '\', ';', '#' and '?', so that a file name
// such as "my model (1).bin" can be sent encoded. Everything else is
// refused, never normalized: '#' anywhere, ';' (path parameters, "..;"),
// '%25' (double encoding), non-ASCII raw or encoded (fullwidth dots,
// overlong UTF-8), control characters, backslashes, and segments that are
// empty, "." or made of dots and spaces only ("...", ".. ", which Windows
// reads as ".."). The query may hold what RFC 3986 allows there (pchar,
// '/', '?', ';', '%'); it takes no part in matching.
//
// The sets are bit masks of the bytes 0-63 and 64-127, so that the check
// costs a shift per byte and no table in memory.
const (
	pcharLo uint64 = 1<<'!' | 1<<'$' | 1<<'&' | 1<<'\'' | 1<<'(' | 1<<')' | 1<<'*' | 1<<'+' | 1<<',' |
		1<<'-' | 1<<'.' | 0x3ff<<'0' | 1<<':' | 1<<'='
	pcharHi uint64 = 1<<('@'-64) | 0x3ffffff<<('A'-64) | 1<<('_'-64) | 0x3ffffff<<('a'-64) | 1<<('~'-64)
	// queryLo adds what a query may hold beyond a path segment's bytes.
	queryLo = pcharLo | 1<<'/' | 1<<'?' | 1<<';' | 1<<'%'
)

// inSet reports whether c is in the set of bytes given by lo and hi.
func inSet(c byte, lo, hi uint64) bool {
	switch {
	case c < 64:
		return lo>>c&1 != 0
	case c < 128:
		return hi>>(c-64)&1 != 0
	}
	return false
}

// splitPath checks that uri is a plain path and appends its decoded
// segments to segs; bit i of escapedSegs is set when segment i (of the
// first 64) held a percent-encoding. A trailing slash is ignored. It runs
// on every gateway decision, so it walks the URI once in a plain loop,
// testing the common byte first, and decodes only segments that hold a
// '%'.
func splitPath(uri string, segs []string) (_ []string, escapedSegs uint64, _ error) {
	if len(uri) > MaxURILen {
		return nil, 0, fmt.Errorf("%w: longer than %d bytes", ErrBadPath, MaxURILen)
	}
	p, query, hasQuery := uri, "", false
	for i := 0; i < len(uri); i++ {
		if uri[i] == '?' {
			p, query, hasQuery = uri[:i], uri[i+1:], true
			break
		}
	}
	if !strings.HasPrefix(p, "/") {
		return nil, 0, fmt.Errorf("%w: not an absolute path", ErrBadPath)
	}
	p = strings.TrimSuffix(p[1:], "/")
	start, escaped := 0, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if inSet(c, pcharLo, pcharHi) {
			continue
		}
		switch c {
		case '%':
			escaped = true
		case '/':
			var err error
			if segs, escapedSegs, err = appendSegment(segs, escapedSegs, p[start:i], escaped); err != nil {
				return nil, 0, err
			}
			start, escaped = i+1, false
		default:
			return nil, 0, badByte(c)
		}
	}
	segs, escapedSegs, err := appendSegment(segs, escapedSegs, p[start:], escaped)
	if err != nil {
		return nil, 0, err
	}
	if hasQuery {
		for i := 0; i < len(query); i++ {
			if c := query[i]; !inSet(c, queryLo, pcharHi) {
				return nil, 0, fmt.Errorf("%w (in the query)", badByte(c))
			}
		}
	}
	return segs, escapedSegs, nil
}

// appendSegment checks and decodes the raw segment (escaped: it holds a
// '%') and appends it to segs, marking it in escapedSegs if escaped.
func appendSegment(segs []string, escapedSegs uint64, raw string, escaped bool) ([]string, uint64, error) {
	s, err := checkSegment(raw, escaped)
	if err != nil {
		return nil, 0, err
	}
	if escaped && len(segs) < 64 {
		escapedSegs |= 1 << len(segs)
	}
	return append(segs, s), escapedSegs, nil
}

// badByte is the error for a byte that no plain path holds.
func badByte(c byte) error {
	switch {
	case c == '#':
		return fmt.Errorf("%w: '#' (a fragment, or a path character to some servers)", ErrBadPath)
	case c == ';':
		return fmt.Errorf("%w: ';' (path parameters)", ErrBadPath)
	case c == '\\':
		return fmt.Errorf("%w: backslash", ErrBadPath)
	case c < 0x20 || c == 0x7f:
		return fmt.Errorf("%w: control character", ErrBadPath)
	case c >= 0x80:
		return fmt.Errorf("%w: non-ASCII byte", ErrBadPath)
	}
	return fmt.Errorf("%w: character %q is not allowed in a path", ErrBadPath, c)
}

// checkSegment checks the escapes of one raw segment (escaped: it holds a
// '%'), decodes it, and refuses it if it is empty or made of dots and
// spaces only.
func checkSegment(raw string, escaped bool) (string, error) {
	s := raw
	if escaped {
		var b strings.Builder
		b.Grow(max(len(raw)-2*strings.Count(raw, "%"), 0))
		for i := 0; i < len(raw); i++ {
			if raw[i] != '%' {
				b.WriteByte(raw[i])
				continue
			}
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return "", fmt.Errorf("%w: bad percent-encoding", ErrBadPath)
			}
			c := unhex(raw[i+1])<<4 | unhex(raw[i+2])
			if err := checkEscaped(c); err != nil {
				return "", err
			}
			b.WriteByte(c)
			i += 2
		}
		s = b.String()
	}
	if s == "" {
		return "", fmt.Errorf("%w: empty segment (//)", ErrBadPath)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && s[i] != ' ' {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: dot segment", ErrBadPath)
}

// checkEscaped refuses a percent-encoded byte that a server could take for
// syntax once decoded, or that is not printable ASCII.
func checkEscaped(c byte) error {
	switch {
	case c == '%':
		return fmt.Errorf("%w: double encoding (%%25)", ErrBadPath)
	case c == '/' || c == '\\':
		return fmt.Errorf("%w: encoded slash or backslash", ErrBadPath)
	case c == ';' || c == '#' || c == '?':
		return fmt.Errorf("%w: encoded %q", ErrBadPath, c)
	case c < 0x20 || c == 0x7f:
		return fmt.Errorf("%w: control character", ErrBadPath)
	case c >= 0x80:
		return fmt.Errorf("%w: non-ASCII byte", ErrBadPath)
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
