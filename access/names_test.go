package access_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"tokenauthority/access"
)

// TestIDRule holds ValidID to the rule as IDPattern and IDRule state it:
// each case is decided by ValidID and by the pattern, and both must give
// the expected answer.
func TestIDRule(t *testing.T) {
	t.Parallel()
	pattern := regexp.MustCompile("^" + access.IDPattern + "$")
	longest := strings.Repeat("a", access.MaxIDLen)
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"one letter", "a", true},
		{"one digit", "7", true},
		{"letters and digits", "acme42", true},
		{"inner hyphen", "a-b", true},
		{"inner hyphens in a row", "a--b", true},
		{"longest", longest, true},
		{"longest with hyphens", "a" + strings.Repeat("-", access.MaxIDLen-2) + "z", true},
		{"empty", "", false},
		{"one too long", longest + "a", false},
		{"leading hyphen", "-acme", false},
		{"trailing hyphen", "acme-", false},
		{"hyphen alone", "-", false},
		{"upper case", "Acme", false},
		{"underscore", "ac_me", false},
		{"dot", "ac.me", false},
		{"slash", "ac/me", false},
		{"space", "ac me", false},
		{"NUL", "ac\x00me", false},
		{"non-ASCII letter", "acmé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := access.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
			if got := pattern.MatchString(tt.id); got != tt.want {
				t.Errorf("IDPattern matches %q = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
	for _, text := range []string{access.IDRule, access.ZooRule, access.ErrBadZoo.Error()} {
		if !strings.Contains(text, access.IDPattern) {
			t.Errorf("%q does not state IDPattern", text)
		}
	}
	if want := "at most " + strconv.Itoa(access.MaxIDLen) + " characters"; !strings.Contains(access.IDRule, want) {
		t.Errorf("IDRule %q does not say %q", access.IDRule, want)
	}
}

func TestParseZoo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		ws, zn string
		ok     bool
	}{
		{"acme/pub", "acme", "pub", true},
		{"a/b-", "", "", false},
		{"a/b-c", "a", "b-c", true},
		{"acme", "", "", false},
		{"acme/pub/x", "", "", false},
		{"/pub", "", "", false},
		{"acme/", "", "", false},
		{"Acme/pub", "", "", false},
		{"-acme/pub", "", "", false},
		{"acme/../pub", "", "", false},
		{"acme/" + strings.Repeat("a", access.MaxIDLen), "acme", strings.Repeat("a", access.MaxIDLen), true},
		{"acme/" + strings.Repeat("a", access.MaxIDLen+1), "", "", false},
		{"acme/" + string(make([]byte, 64)), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			ws, zn, err := access.ParseZoo(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseZoo(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, access.ErrBadZoo) {
				t.Fatalf("ParseZoo(%q) error = %v, want ErrBadZoo", tt.in, err)
			}
			if ws != tt.ws || zn != tt.zn {
				t.Errorf("ParseZoo(%q) = %q, %q; want %q, %q", tt.in, ws, zn, tt.ws, tt.zn)
			}
		})
	}
}
