package server

import (
	"errors"
	"regexp"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/access"
	"tokenauthority/lifecycle"
	"tokenauthority/token"
)

var idPattern = regexp.MustCompile("^" + access.IDPattern + "$")

// FuzzRequestValidation feeds the request field validators arbitrary input:
// none may panic, every refusal is an invalidError naming its field (which
// becomes InvalidArgument, never Internal), and each accepts exactly what
// its documented rule says.
func FuzzRequestValidation(f *testing.F) {
	f.Add("acme", "laptop", "0123456789abcdef", "01jd2x3y4z5a6b7c8d9e0f1g2h", int64(4102444800), int32(0), int32(10), "")
	f.Add("", "", "", "", int64(neverExpiresSecs), int32(0), int32(0), encodePage("tokens", "01jd"))
	f.Add("-a", "tab\there", "short", "01JD", int64(-62135596801), int32(-1), int32(-5), "%%%")
	f.Add("a--b", "\xff", "seed with space!!", "zzzzzzzzzzzzzzzzzzzzzzzzzz", int64(253402300800), int32(1e9), int32(2000), encodePage("workspaces", ""))
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, id, text, seed, tokenID string, secs int64, nanos, size int32, page string) {
		checkField := func(name, field string, err error) {
			t.Helper()
			if err == nil {
				return
			}
			var inv *invalidError
			if !errors.As(err, &inv) || inv.field != field || inv.reason == "" {
				t.Fatalf("%s: error %v is not an invalidError for %s", name, err, field)
			}
		}
		err := checkID("workspace_id", id)
		checkField("checkID", "workspace_id", err)
		if (err == nil) != idPattern.MatchString(id) {
			t.Fatalf("checkID(%q) = %v; pattern says %v", id, err, idPattern.MatchString(id))
		}
		err = checkText("description", text, maxDescription)
		checkField("checkText", "description", err)
		if err == nil && (!utf8.ValidString(text) || utf8.RuneCountInString(text) > maxDescription) {
			t.Fatalf("checkText accepted %q", text)
		}
		err = checkSeed(seed)
		checkField("checkSeed", "seed", err)
		if err == nil && (len(seed) < token.MinSeedLen || len(seed) > maxSeedLen) {
			t.Fatalf("checkSeed accepted %d bytes", len(seed))
		}
		if err := checkTokenPath(id, tokenID); err != nil {
			var inv *invalidError
			if !errors.As(err, &inv) {
				t.Fatalf("checkTokenPath error %v is not an invalidError", err)
			}
		}
		requested, err := requestedExpiry("expire_time", &timestamppb.Timestamp{Seconds: secs, Nanos: nanos})
		checkField("requestedExpiry", "expire_time", err)
		for _, maxLife := range []time.Duration{0, 24 * time.Hour} {
			if err != nil {
				break
			}
			exp, lerr := lifecycle.Limits{Ceiling: maxLife}.Issue(requested, now)
			var le *lifecycle.LimitError
			if lerr != nil && (!errors.As(lerr, &le) || le.Field != "expire_time" || le.Reason == "") {
				t.Fatalf("Issue error %v is not a LimitError for expire_time", lerr)
			}
			if lerr == nil && (exp.IsZero() && maxLife > 0 || !exp.IsZero() && (!exp.After(now) || maxLife > 0 && exp.Sub(now) > maxLife)) {
				t.Fatalf("Issue accepted %v (now %v, max %v)", exp, now, maxLife)
			}
		}
		n, err := pageSize(size)
		checkField("pageSize", "page_size", err)
		if err == nil && (n <= 0 || n > maxPageSize) {
			t.Fatalf("pageSize(%d) = %d", size, n)
		}
		last, err := decodePage("tokens", page)
		checkField("decodePage", "page_token", err)
		if err == nil && page != "" && encodePage("tokens", last) != page {
			// Another spelling of the same page may decode; it must decode
			// to a key of the right list.
			if _, err := decodePage("workspaces", page); err == nil {
				t.Fatalf("page token %q decodes for two lists", page)
			}
		}
	})
}
