package ui_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// testSeed is a seed such as secrets.token_urlsafe(32) makes.
const testSeed = "5zkQCTw846pwPqOKNmbJr8K1XkOQnvNqIsRN06Brnu0"

// badLinks are /create_token queries that must be refused, by the server
// and by the page script alike.
var badLinks = []struct {
	name  string
	query url.Values
}{
	{"bidi override", url.Values{"seed": {testSeed}, "message": {"Token for your laptop \u202Egnp.exe"}}},
	{"right-to-left isolate", url.Values{"seed": {testSeed}, "message": {"ok \u2067evil\u2069"}}},
	{"left-to-right mark", url.Values{"seed": {testSeed}, "message": {"ok\u200e"}}},
	{"right-to-left mark", url.Values{"seed": {testSeed}, "message": {"ok\u200f"}}},
	{"Arabic letter mark", url.Values{"seed": {testSeed}, "message": {"ok\u061c"}}},
	{"embedding", url.Values{"seed": {testSeed}, "message": {"\u202aok"}}},
	{"newline", url.Values{"seed": {testSeed}, "message": {"line one\nThe page says: you are safe"}}},
	{"NUL", url.Values{"seed": {testSeed}, "message": {"a\x00b"}}},
	{"escape", url.Values{"seed": {testSeed}, "message": {"\x1b[31mred"}}},
	{"DEL", url.Values{"seed": {testSeed}, "message": {"a\x7fb"}}},
	{"C1 control", url.Values{"seed": {testSeed}, "message": {"a\u0085b"}}},
	{"201 characters", url.Values{"seed": {testSeed}, "message": {strings.Repeat("é", 201)}}},
	{"seed too short", url.Values{"seed": {"abc"}, "message": {"hi"}}},
	{"seed with markup", url.Values{"seed": {testSeed + "<script>"}}},
	{"seed of a javascript URL", url.Values{"seed": {"javascript:alert(document.domain)//" + testSeed}}},
	{"seed twice", url.Values{"seed": {testSeed, testSeed + "x"}}},
	{"message without seed", url.Values{"message": {"Generate a token, please"}}},
}

// goodLinks are accepted: hostile text is only ever shown as text.
var goodLinks = []struct {
	name    string
	message string
}{
	{"plain", "Token created for the SDK on build-host-7. You can close this page."},
	{"200 characters", strings.Repeat("é", 200)},
	{"markup", `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`},
	{"javascript URL", "javascript:document.title='pwned'"},
	{"data URL", "data:text/html,<script>document.title='pwned'</script>"},
	{"right-to-left text", "שלום, token for the SDK"},
	{"none", ""},
}

// TestCreateTokenLink: the server refuses a hostile /create_token link with
// a page that offers nothing to press and does not repeat the link.
func TestCreateTokenLink(t *testing.T) {
	t.Parallel()
	svc := startService(t, nil)
	get := func(t *testing.T, q url.Values) (int, string) {
		t.Helper()
		resp, err := http.Get(svc.base + "/create_token?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	for _, tc := range badLinks {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := get(t, tc.query)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d; want 400", code)
			}
			if !strings.Contains(body, "This link cannot be used") || strings.Contains(body, "<script") || strings.Contains(body, "<button") {
				t.Errorf("refusal page:\n%s", body)
			}
			for _, v := range append(tc.query["message"], tc.query["seed"]...) {
				if len(v) > 3 && strings.Contains(body, v) {
					t.Errorf("the refusal repeats the link's text %q", v)
				}
			}
		})
	}
	for _, tc := range goodLinks {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := get(t, url.Values{"seed": {testSeed}, "message": {tc.message}})
			if code != http.StatusOK || !strings.Contains(body, "/ui/app.js") {
				t.Errorf("status %d; want 200 and the page", code)
			}
		})
	}
}
