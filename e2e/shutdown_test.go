package e2e_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tokenauthority/internal/teststack"
)

// TestGracefulShutdownUnderLoad sends SIGTERM while clients create tokens
// and while one request is still uploading its body: that request is
// answered, nothing is answered with a server error, the process exits 0
// after closing the store, and a restart finds every acknowledged write.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startServer(t, dir)
	c := newClient(t, p)
	c.members(t, "acme", "alice")

	// The slow request: headers and half the body now, the rest after
	// SIGTERM.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", c.base+"/v1/workspaces/acme/tokens", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.admin)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		body   []byte
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{status: resp.StatusCode, body: b, err: err}
	}()
	if _, err := io.WriteString(pw, `{"user_id":"alice",`); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		acked     []string // secrets
		serverErr []string
		sigterm   time.Time
	)
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				resp, status, err := c.do("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice"}`)
				mu.Lock()
				switch {
				case err != nil:
					// Refused or reset connections are expected once the
					// listener is closing, never before.
					if sigterm.IsZero() {
						serverErr = append(serverErr, "before SIGTERM: "+err.Error())
					}
				case status == 200:
					acked = append(acked, resp["secret"].(string))
				case status >= 500:
					serverErr = append(serverErr, http.StatusText(status))
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	// Load before SIGTERM: with bbolt's group commit six writers get
	// hundreds of creates acknowledged in 400 ms. On etcd every create is
	// a raft round trip, and the audited writes of all writers serialize
	// on the audit chain's head (measured on two shared cores: about 15 a
	// second while the whole suite runs, 100 alone), so the load runs
	// longer and fewer are asked for.
	loadFor, least := 400*time.Millisecond, 20
	if onEtcd() {
		loadFor, least = 2*time.Second, 10
	}
	// Deliberately let the load run for a while before the signal.
	time.Sleep(loadFor)
	mu.Lock()
	sigterm = time.Now()
	mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	teststack.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(p.logs.String(), "shutting down") {
			return errors.New("the server did not start shutting down after SIGTERM")
		}
		return nil
	})
	// The server is draining: the in-flight request completes its body now.
	if _, err := io.WriteString(pw, `"description":"in flight at SIGTERM"}`); err != nil {
		t.Fatalf("finish the in-flight body: %v", err)
	}
	pw.Close()
	r := <-slow
	close(stopLoad)
	wg.Wait()
	p.stop(t) // waits for exit 0
	if r.err != nil || r.status != 200 {
		t.Fatalf("request in flight at SIGTERM = %d %s, %v; want 200", r.status, r.body, r.err)
	}
	var created map[string]any
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, created["secret"].(string))
	if len(serverErr) > 0 {
		t.Errorf("errors during shutdown: %v", serverErr)
	}
	if logs := p.logs.String(); !strings.Contains(logs, "tokenauthority stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs)
	}
	if len(acked) < least {
		t.Fatalf("only %d writes acknowledged, want at least %d; the load did not run", len(acked), least)
	}

	p = startServer(t, dir)
	c = newClient(t, p)
	for _, secret := range acked {
		v := c.mustJSON(t, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, 200)
		if v["valid"] != true {
			t.Errorf("an acknowledged token is %v after a graceful restart", v["reason"])
		}
	}
	t.Logf("%d acknowledged tokens (one in flight at SIGTERM) found after SIGTERM and restart", len(acked))
}
