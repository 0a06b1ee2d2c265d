package e2e_test

import (
	"errors"
	"testing"
	"time"

	"tokenauthority/internal/teststack"
)

// TestLastUsedWrittenInBackground: the server writes a token's last use on
// its own within seconds (no shutdown needed), that write survives kill -9,
// and a kill -9 costs nothing but last-used times.
func TestLastUsedWrittenInBackground(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	c := newClient(t, p)
	c.members(t, "acme", "alice")
	created := c.mustJSON(t, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`, 200)
	secret := created["secret"].(string)
	id := created["token"].(map[string]any)["token_id"].(string)
	if got := created["token"].(map[string]any)["last_used_time"]; got != nil {
		t.Fatalf("a new token has last_used_time %v; want null", got)
	}
	if v := c.mustJSON(t, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, 200); v["valid"] != true {
		t.Fatalf("validate = %v", v)
	}
	var written string
	teststack.Eventually(t, 30*time.Second, func() error {
		if written, _ = c.mustJSON(t, "GET", "/v1/workspaces/acme/tokens/"+id, "", 200)["last_used_time"].(string); written == "" {
			return errors.New("after a validation the token still has no last_used_time")
		}
		return nil
	})

	p.kill()
	p = startServer(t, dir)
	c = newClient(t, p)
	got := c.mustJSON(t, "GET", "/v1/workspaces/acme/tokens/"+id, "", 200)
	if got["last_used_time"] != written {
		t.Errorf("after kill -9 last_used_time = %v; want the written %s", got["last_used_time"], written)
	}
	if v := c.mustJSON(t, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, 200); v["valid"] != true {
		t.Errorf("after kill -9 the token is %v; want valid", v)
	}
}
