package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// sdkParseExpiration mirrors the hub SDK's parsing of `expiration`:
//
//	datetime.fromisoformat(expiration.replace("Z","").split(".")[0] + "+00:00")
func sdkParseExpiration(s string) (time.Time, error) {
	s = strings.Split(strings.ReplaceAll(s, "Z", ""), ".")[0] + "+00:00"
	return time.Parse("2006-01-02T15:04:05-07:00", s)
}

// sdkHeaders are what the SDK sends with every request.
func sdkHeaders(token string) map[string]string {
	h := map[string]string{"dg_version": "1.5.0"}
	if token != "" {
		h["token"] = token
	}
	return h
}

// TestSDKProtocol replays the hub SDK's token commands (status, renew,
// create) with the SDK's own headers, paths and parsing rules.
func TestSDKProtocol(t *testing.T) {
	t.Parallel()
	p := startServer(t, t.TempDir(), "--refresh-grace", "1m")
	c := newClient(t, p)
	c.members(t, "acme", "alice")
	expiring := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"ci runner","expire_time":"2099-06-30T12:00:00Z"}`, 200)["secret"].(string)
	forever := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"forever"}`, 200)["secret"].(string)

	// `token status`
	for _, tc := range []struct {
		secret, description, expiration string
	}{
		{expiring, "ci runner", "2099-06-30T12:00:00"},
		{forever, "forever", "0001-01-01T00:00:00"},
	} {
		info, status, err := c.doHeaders("GET", "/api/v1/tokens/"+tc.secret+"/info", "", sdkHeaders(tc.secret))
		if err != nil || status != 200 {
			t.Fatalf("info: %d %v %v", status, info, err)
		}
		for _, key := range []string{"description", "created_at", "expiration", "user", "space"} {
			if _, ok := info[key]; !ok {
				t.Errorf("info lacks key %q: %v", key, info)
			}
		}
		exp, _ := info["expiration"].(string)
		if !strings.Contains(exp, tc.expiration) {
			t.Errorf("expiration = %q; want it to contain %q", exp, tc.expiration)
		}
		for _, key := range []string{"expiration", "created_at"} {
			v, _ := info[key].(string)
			if _, err := sdkParseExpiration(v); err != nil {
				t.Errorf("the SDK cannot parse %s %q: %v", key, v, err)
			}
			pythonParses(t, v)
		}
		if info["description"] != tc.description || info["user"] != "alice" || info["space"] != "acme" {
			t.Errorf("info = %v", info)
		}
	}

	// A bad token: 401 with a JSON detail the SDK shows.
	for _, bad := range []string{"tka_garbage", strings.Replace(expiring, expiring[10:11], flipChar(expiring[10]), 1)} {
		body, status, err := c.doHeaders("GET", "/api/v1/tokens/"+bad+"/info", "", sdkHeaders(bad))
		if err != nil || status != 401 || body["detail"] == "" || body["detail"] == nil {
			t.Errorf("info of a bad token: %d %v %v; want 401 with detail", status, body, err)
		}
	}

	// `token renew`
	body, status, err := c.doHeaders("PATCH", "/api/v1/tokens/"+expiring+"/refresh", "", sdkHeaders(expiring))
	renewed, _ := body["value"].(string)
	if err != nil || status != 200 || !strings.HasPrefix(renewed, "tka_") || renewed == expiring {
		t.Fatalf("refresh: %d %v %v; want a new token in value", status, body, err)
	}
	// An SDK that lost the answer retries: within --refresh-reuse-interval
	// (30s by default) it gets the same new token, and nothing is revoked.
	if again, status, err := c.doHeaders("PATCH", "/api/v1/tokens/"+expiring+"/refresh", "", sdkHeaders(expiring)); err != nil || status != 200 || again["value"] != renewed {
		t.Fatalf("repeated refresh: %d, same token %v, %v; want 200 with the same new token", status, again["value"] == renewed, err)
	}
	info, status, err := c.doHeaders("GET", "/api/v1/tokens/"+renewed+"/info", "", sdkHeaders(renewed))
	if err != nil {
		t.Fatalf("info of the renewed token: %v", err)
	}
	if status != 200 || info["description"] != "ci runner" || info["user"] != "alice" || info["space"] != "acme" {
		t.Errorf("renewed token info: %d %v; want the same description, user and workspace", status, info)
	}
	if _, status, err := c.doHeaders("GET", "/api/v1/tokens/"+expiring+"/info", "", sdkHeaders(expiring)); err != nil || status != 200 {
		t.Errorf("old token within the grace period: %d, %v; want 200", status, err)
	}

	// `token create`: the SDK makes a seed, the web page creates a token for
	// it, the SDK polls until it gets it, once.
	seedBytes := make([]byte, 16)
	if _, err := rand.Read(seedBytes); err != nil {
		t.Fatal(err)
	}
	seed := hex.EncodeToString(seedBytes)
	pick := func() (map[string]any, int) {
		body, status, err := c.doHeaders("POST", "/api/v1/tokens-seed/pick", `{"seed":"`+seed+`"}`, sdkHeaders(""))
		if err != nil {
			t.Fatal(err)
		}
		return body, status
	}
	if body, status := pick(); status != 404 || body["detail"] == nil {
		t.Errorf("pick before the token exists: %d %v; want 404 with detail", status, body)
	}
	created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"from the SDK","seed":"`+seed+`"}`, 200)
	body, status = pick()
	if status != 200 || body["token"] != created["secret"] {
		t.Errorf("pick: %d %v; want the created token", status, body)
	}
	if _, status := pick(); status != 404 {
		t.Errorf("second pick: %d; want 404 (a seed is picked once)", status)
	}
}

// pythonParses runs the SDK's exact expression in Python. A machine
// without python3 fails the test rather than skipping the check: the
// README's test command installs it.
func pythonParses(t *testing.T, value string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to check the SDK's date parsing and is not installed (%v); run scripts/test, which installs it, or apt-get install python3", err)
	}
	script := `import sys; from datetime import datetime; datetime.fromisoformat(sys.argv[1].replace("Z","").split(".")[0] + "+00:00")`
	if out, err := exec.Command(py, "-c", script, value).CombinedOutput(); err != nil {
		t.Errorf("python's datetime.fromisoformat rejects %q: %v\n%s", value, err, out)
	}
}

func flipChar(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}
