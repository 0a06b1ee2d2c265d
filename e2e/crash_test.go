package e2e_test

import (
	"sync"
	"testing"
	"time"
)

// TestAcknowledgedWritesSurviveKill9 creates and revokes tokens from several
// clients at once, kills the server with SIGKILL while they are still
// writing, restarts it on the same data directory and checks that every
// acknowledged create and revoke is there.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	c := newClient(t, p)
	c.members(t, "acme", "alice")

	const writers, maxEach = 8, 200
	var mu sync.Mutex
	state := map[string]string{} // secret -> reason it must have after restart, or "either"
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < maxEach; i++ {
				resp, status, err := c.do("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`)
				if err != nil || status != 200 {
					return // the server is gone
				}
				secret, _ := resp["secret"].(string)
				id, _ := resp["token"].(map[string]any)["token_id"].(string)
				mu.Lock()
				state[secret] = "REASON_VALID"
				mu.Unlock()
				if i%4 == 0 {
					// An unacknowledged revoke may or may not have landed.
					mu.Lock()
					state[secret] = "either"
					mu.Unlock()
					_, status, err := c.do("DELETE", "/v1/workspaces/acme/tokens/"+id, "")
					if err != nil || status != 200 {
						return
					}
					mu.Lock()
					state[secret] = "REASON_REVOKED"
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(state)
		mu.Unlock()
		if n >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.kill() // while the writers are still writing
	wg.Wait()
	if len(state) < 20 {
		t.Fatalf("only %d creates were acknowledged before the kill", len(state))
	}

	p = startServer(t, dir)
	c = newClient(t, p)
	for secret, want := range state {
		v := c.mustJSON(t, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, 200)
		if want == "either" && (v["reason"] == "REASON_VALID" || v["reason"] == "REASON_REVOKED") {
			continue
		}
		if v["reason"] != want {
			t.Errorf("after kill -9 an acknowledged token is %v; want %s", v["reason"], want)
		}
	}
	t.Logf("%d acknowledged tokens checked after kill -9", len(state))
}
