package token_test

import (
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"tokenauthority/token"
)

// Golden secrets, computed independently (Python zlib.crc32 and a base62
// encoder), pin the format: a change here breaks every issued token.
const (
	goldenZeros = "tka_00000000000000000000000000000000000000000003jO17q"
	goldenMixed = "tka_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ1XsZEv"
)

func newSecret(t testing.TB) string {
	t.Helper()
	s, err := token.New()
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return s
}

func TestNewRoundTrip(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 1000 {
		s := newSecret(t)
		if got, want := len(s), token.Length; got != want {
			t.Fatalf("len(New()) = %d, want %d", got, want)
		}
		if !strings.HasPrefix(s, token.Prefix) {
			t.Fatalf("New() = %q, want prefix %q", token.Mask(s), token.Prefix)
		}
		if err := token.Check(s); err != nil {
			t.Fatalf("Check(New()) = %v, want nil", err)
		}
		if seen[s] {
			t.Fatalf("New() returned a duplicate secret")
		}
		seen[s] = true
	}
}

// TestNewUsesWholeAlphabet catches a generator that never emits some
// characters, e.g. from an off-by-one in the sampling bound.
func TestNewUsesWholeAlphabet(t *testing.T) {
	t.Parallel()
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	counts := make(map[byte]int)
	const n = 2000
	for range n {
		s := newSecret(t)
		for i := len(token.Prefix); i < token.Length-6; i++ {
			counts[s[i]]++
		}
	}
	// Each character is expected 2000*43/62 = 1387 times; a uniform
	// generator falls below half of that with negligible probability.
	for i := 0; i < len(alphabet); i++ {
		if got := counts[alphabet[i]]; got < n*43/62/2 {
			t.Errorf("character %q appeared %d times in the random part, want about %d", alphabet[i], got, n*43/62)
		}
	}
	if got, want := len(counts), len(alphabet); got != want {
		t.Errorf("random part used %d distinct characters, want %d", got, want)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		want   error
	}{
		{name: "golden zeros", secret: goldenZeros, want: nil},
		{name: "golden mixed", secret: goldenMixed, want: nil},
		{name: "empty", secret: "", want: token.ErrMalformed},
		{name: "prefix only", secret: token.Prefix, want: token.ErrMalformed},
		{name: "wrong prefix", secret: "tkb_" + goldenMixed[4:], want: token.ErrMalformed},
		{name: "upper-case prefix", secret: "TKA_" + goldenMixed[4:], want: token.ErrMalformed},
		{name: "no prefix, right length", secret: "xxxx" + goldenMixed[4:], want: token.ErrMalformed},
		{name: "one short", secret: goldenMixed[:token.Length-1], want: token.ErrMalformed},
		{name: "one long", secret: goldenMixed + "0", want: token.ErrMalformed},
		{name: "trailing newline", secret: goldenMixed + "\n", want: token.ErrMalformed},
		{name: "leading space", secret: " " + goldenMixed[:token.Length-1], want: token.ErrMalformed},
		{name: "dash in random part", secret: goldenMixed[:10] + "-" + goldenMixed[11:], want: token.ErrMalformed},
		{name: "underscore in checksum", secret: goldenMixed[:token.Length-1] + "_", want: token.ErrMalformed},
		{name: "non-ASCII", secret: goldenMixed[:20] + "\xc3\xa9" + goldenMixed[22:], want: token.ErrMalformed},
		{name: "NUL byte", secret: goldenMixed[:30] + "\x00" + goldenMixed[31:], want: token.ErrMalformed},
		{name: "checksum of another body", secret: goldenMixed[:47] + goldenZeros[47:], want: token.ErrChecksum},
		{name: "swapped neighbours", secret: goldenMixed[:5] + goldenMixed[6:7] + goldenMixed[5:6] + goldenMixed[7:], want: token.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := token.Check(tt.secret)
			if !errors.Is(got, tt.want) {
				t.Errorf("Check() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCheckEverySingleChange alters each position of valid secrets to every
// other byte value. CRC32 detects every single-character change in the
// checked part, the checksum's encoding is one-to-one, and anything outside
// the alphabet is malformed: no change may pass.
func TestCheckEverySingleChange(t *testing.T) {
	t.Parallel()
	for _, s := range []string{goldenZeros, goldenMixed, newSecret(t), newSecret(t)} {
		b := []byte(s)
		for i := range b {
			orig := b[i]
			for c := 0; c < 256; c++ {
				if byte(c) == orig {
					continue
				}
				b[i] = byte(c)
				err := token.Check(string(b))
				if err == nil {
					t.Fatalf("Check() accepted %q with position %d changed to %q", token.Mask(s), i, byte(c))
				}
				if !errors.Is(err, token.ErrMalformed) && !errors.Is(err, token.ErrChecksum) {
					t.Fatalf("Check() = %v, want ErrMalformed or ErrChecksum", err)
				}
			}
			b[i] = orig
		}
	}
}

// TestCheckErrorHasNoSecret guards the rule that secrets never reach errors
// (which end up in logs and responses).
func TestCheckErrorHasNoSecret(t *testing.T) {
	t.Parallel()
	s := newSecret(t)
	bad := s[:token.Length-1] + string(s[token.Length-1]^1)
	err := token.Check(bad)
	if err == nil {
		t.Fatal("Check() of a corrupted secret = nil, want an error")
	}
	if strings.Contains(err.Error(), s[len(token.Prefix):token.Length-6]) {
		t.Errorf("Check() error %q contains the random part of the secret", err)
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	a, b := newSecret(t), newSecret(t)
	if token.Hash(a) != token.Hash(a) {
		t.Error("Hash() is not deterministic")
	}
	if token.Hash(a) == token.Hash(b) {
		t.Error("Hash() of two different secrets is equal")
	}
	// SHA-256 of goldenZeros, from `printf %s "$goldenZeros" | sha256sum`:
	// stored hashes must stay findable across releases.
	const want = "c1fa92e6e1cd1113a52aee0b28396a2e9169520847af27220b68e58e0516f8a0"
	got := token.Hash(goldenZeros)
	if hex.EncodeToString(got[:]) != want {
		t.Errorf("Hash(goldenZeros) = %x, want %s", got, want)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		want   string
	}{
		{name: "golden", secret: goldenMixed, want: "tka_...sZEv"},
		{name: "empty", secret: "", want: "tka_..."},
		{name: "short", secret: "tka_abcdef", want: "tka_..."},
		{name: "long", secret: goldenMixed + "x", want: "tka_..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := token.Mask(tt.secret); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.secret, got, tt.want)
			}
		})
	}
}

// TestMaskRevealsNoRandomPart checks over many fresh secrets that a mask is
// the prefix, "..." and at most four characters, all taken from the
// checksum: none from the random part.
func TestMaskRevealsNoRandomPart(t *testing.T) {
	t.Parallel()
	for range 1000 {
		s := newSecret(t)
		m := token.Mask(s)
		shown, ok := strings.CutPrefix(m, token.Prefix+"...")
		if !ok {
			t.Fatalf("Mask() = %q, want prefix %q", m, token.Prefix+"...")
		}
		if len(shown) > 4 {
			t.Fatalf("Mask() shows %d characters, want at most 4", len(shown))
		}
		if checksum := s[token.Length-6:]; !strings.HasSuffix(checksum, shown) {
			t.Fatalf("Mask() shows %q, want the end of the checksum %q", shown, checksum)
		}
	}
}

func TestPattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(token.Pattern)
	s := newSecret(t)
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "alone", text: s, want: []string{s}},
		{name: "in a config line", text: "TOKEN=" + s + "\n", want: []string{s}},
		{name: "quoted in JSON", text: `{"token":"` + s + `"}`, want: []string{s}},
		{name: "two", text: s + " " + goldenMixed, want: []string{s, goldenMixed}},
		{name: "one character short", text: "x " + s[:token.Length-1] + " y", want: nil},
		{name: "one character long", text: s + "Q", want: nil},
		{name: "glued to a word", text: "abc" + s, want: nil},
		{name: "bad character", text: s[:20] + "-" + s[21:], want: nil},
		{name: "wrong prefix", text: "tkb_" + s[4:], want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := re.FindAllString(tt.text, -1)
			if len(got) != len(tt.want) {
				t.Fatalf("FindAllString() found %d matches, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("match %d = %q, want %q", i, token.Mask(got[i]), token.Mask(tt.want[i]))
				}
			}
		})
	}
}

// TestPatternAgreesWithCheck: every secret Check accepts must be found by
// scanners using Pattern.
func TestPatternAgreesWithCheck(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^` + token.Pattern + `$`)
	for range 200 {
		s := newSecret(t)
		if !re.MatchString(s) {
			t.Fatalf("Pattern does not match %q", token.Mask(s))
		}
	}
}
