package authz

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"tokenauthority/access"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// MaxURILen is the longest original URI the rules look at; longer ones are
// refused rather than scanned.
const MaxURILen = 4096

// DefaultRules is the rule file used without --authz-rules.
const DefaultRules = `# pattern                                     operation
/zoo/v1/public/models/{workspace}/{zoo}/...   download
/zoo/v1/inference/{workspace}/{zoo}/...       cloud_inference
`

// Errors of Rules.Match. Both are denials (HTTP 403), never allowances.
var (
	// ErrBadPath means the URI is not a plain absolute path (see
	// splitPath): it is empty or too long, holds '#', ';', a byte outside
	// RFC 3986 pchar and '/', bad or double percent-encoding, or an
	// empty, dot or dots-only segment. Such paths are refused rather than
	// normalized, because the proxy in front and the server behind it may
	// read them differently.
	ErrBadPath = errors.New("bad path")
	// ErrNoRule means no rule matches the path.
	ErrNoRule = errors.New("no rule matches the path")
)

// errEscapedPrefix refuses percent-encoding in the segments a rule matches.
var errEscapedPrefix = fmt.Errorf("%w: percent-encoding in the part of the path that names the workspace and zoo", ErrBadPath)

// maxPatternSegments bounds a pattern, so that the segments a rule covers
// fit the bit mask of escaped segments.
const maxPatternSegments = 32

// Target is what a request asks for: an operation on a zoo.
type Target struct {
	WorkspaceID, ZooID string
	Operation          pb.Operation
}

// Rules maps request paths to targets. The first matching rule wins.
type Rules struct {
	rules []rule
}

// rule is one line of a rule file.
type rule struct {
	method   string   // "" for any
	segments []string // literals, "{workspace}", "{zoo}"
	rest     bool     // pattern ends in "/...": any further segments
	op       pb.Operation
}

// Operation names of rule files and of Envoy's context_extensions.
var operationNames = map[string]pb.Operation{
	"download":        pb.Operation_OPERATION_DOWNLOAD,
	"cloud_inference": pb.Operation_OPERATION_CLOUD_INFERENCE,
}

// ParseOperation reads an operation name: "download" or "cloud_inference".
func ParseOperation(name string) (pb.Operation, error) {
	if op, ok := operationNames[name]; ok {
		return op, nil
	}
	return 0, fmt.Errorf("operation %q: want download or cloud_inference", name)
}

// ParseRules reads a rule file. Each line is "[METHOD] PATTERN OPERATION";
// blank lines and lines starting with # are ignored. A pattern is an
// absolute path of literal segments with exactly one {workspace} and one
// {zoo} segment, optionally ending in "/..." to match any further segments.
// Errors name the line and what is wrong with it.
func ParseRules(r io.Reader) (*Rules, error) {
	sc := bufio.NewScanner(r)
	var rs Rules
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ru, err := parseRule(strings.Fields(line))
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		rs.rules = append(rs.rules, ru)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(rs.rules) == 0 {
		return nil, errors.New("no rules: every path would be denied")
	}
	return &rs, nil
}

// LoadRules reads the rule file at path; an empty path means DefaultRules.
func LoadRules(path string) (*Rules, error) {
	if path == "" {
		return ParseRules(strings.NewReader(DefaultRules))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("authorization rules: %w", err)
	}
	defer f.Close()
	rs, err := ParseRules(f)
	if err != nil {
		return nil, fmt.Errorf("authorization rules %s: %w", path, err)
	}
	return rs, nil
}

// MustDefaultRules returns the default rules; they are tested to parse.
func MustDefaultRules() *Rules {
	rs, err := ParseRules(strings.NewReader(DefaultRules))
	if err != nil {
		panic("authz: default rules: " + err.Error())
	}
	return rs
}

func parseRule(fields []string) (rule, error) {
	var ru rule
	switch len(fields) {
	case 2:
	case 3:
		ru.method, fields = fields[0], fields[1:]
		if !validMethod(ru.method) {
			return rule{}, fmt.Errorf("method %q: want an upper-case HTTP method such as GET", ru.method)
		}
	default:
		return rule{}, fmt.Errorf("want \"[METHOD] PATTERN OPERATION\", got %d fields", len(fields))
	}
	pattern, opName := fields[0], fields[1]
	op, err := ParseOperation(opName)
	if err != nil {
		return rule{}, err
	}
	ru.op = op
	if !strings.HasPrefix(pattern, "/") {
		return rule{}, fmt.Errorf("pattern %q: must start with /", pattern)
	}
	segs := strings.Split(pattern[1:], "/")
	if segs[len(segs)-1] == "..." {
		ru.rest = true
		segs = segs[:len(segs)-1]
	}
	if len(segs) > maxPatternSegments {
		return rule{}, fmt.Errorf("pattern %q: more than %d segments", pattern, maxPatternSegments)
	}
	var ws, zoo int
	for _, s := range segs {
		switch {
		case s == "{workspace}":
			ws++
		case s == "{zoo}":
			zoo++
		case strings.Trim(s, ".") == "":
			return rule{}, fmt.Errorf("pattern %q: empty, dot or \"...\" segment (\"...\" may only end a pattern)", pattern)
		case !plainLiteral(s):
			return rule{}, fmt.Errorf("pattern %q: segment %q: only {workspace} and {zoo} captures, and RFC 3986 pchar (no %%, ;, ?, # or \\)", pattern, s)
		}
	}
	if ws != 1 || zoo != 1 {
		return rule{}, fmt.Errorf("pattern %q: needs exactly one {workspace} and one {zoo} segment", pattern)
	}
	ru.segments = segs
	return ru, nil
}

// plainLiteral reports whether a pattern's literal segment can match a
// plain path's segment as written: pchar without '%' and ';'.
func plainLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if !inSet(s[i], pcharLo, pcharHi) {
			return false
		}
	}
	return true
}

func validMethod(m string) bool {
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return m != ""
}

// Match finds the target of a request: method (empty for any) and the
// original request URI, path and optional query. The query never takes
// part in matching.
func (rs *Rules) Match(method, uri string) (Target, error) {
	// Room for the segments of every path the default rules match (the
	// slice grows past it), so that matching allocates nothing.
	var room [16]string
	segs, escaped, err := splitPath(uri, room[:0])
	if err != nil {
		return Target{}, err
	}
	for _, ru := range rs.rules {
		if t, ok := ru.match(method, segs); ok {
			// A server that does not decode would look elsewhere than
			// the zoo the decoded segments name.
			if escaped&(1<<len(ru.segments)-1) != 0 {
				return Target{}, errEscapedPrefix
			}
			return t, nil
		}
	}
	return Target{}, ErrNoRule
}

func (ru rule) match(method string, segs []string) (Target, bool) {
	if ru.method != "" && ru.method != method {
		return Target{}, false
	}
	if len(segs) < len(ru.segments) || !ru.rest && len(segs) != len(ru.segments) {
		return Target{}, false
	}
	t := Target{Operation: ru.op}
	for i, p := range ru.segments {
		switch p {
		case "{workspace}":
			t.WorkspaceID = segs[i]
		case "{zoo}":
			t.ZooID = segs[i]
		default:
			if segs[i] != p {
				return Target{}, false
			}
		}
	}
	// A capture that cannot be an id names no zoo; another rule may still
	// match, and none matching is a denial.
	if !access.ValidID(t.WorkspaceID) || !access.ValidID(t.ZooID) {
		return Target{}, false
	}
	return t, true
}
