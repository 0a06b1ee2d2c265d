package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tokenauthority/internal/teststack"
)

// poller plays the hub SDK after it opened the page: it polls the seed's
// pick endpoint, from the given X-Forwarded-For when not empty, until it
// gets the token or the test ends.
type poller struct {
	mu    sync.Mutex
	token string
}

func startPoller(t *testing.T, base, seed, forwardedFor string) *poller {
	t.Helper()
	p := &poller{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/tokens-seed/pick", strings.NewReader(`{"seed":"`+seed+`"}`))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			if forwardedFor != "" {
				req.Header.Set("X-Forwarded-For", forwardedFor)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("pick: %v", err)
				}
				return
			}
			var body struct{ Token string }
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			switch {
			case err != nil:
				t.Errorf("pick answer: %v", err)
				return
			case resp.StatusCode == http.StatusOK:
				p.mu.Lock()
				p.token = body.Token
				p.mu.Unlock()
				return
			case resp.StatusCode != http.StatusNotFound:
				t.Errorf("pick = %d", resp.StatusCode)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond): // the SDK polls once a second
			}
		}
	}()
	return p
}

// wait returns the token the poller picked, failing the test after d.
func (p *poller) wait(t *testing.T, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		p.mu.Lock()
		tok := p.token
		p.mu.Unlock()
		if tok != "" {
			return tok
		}
	}
	t.Fatal("the poller never got the token")
	return ""
}

// TestSDKLinkInBrowser drives /create_token, the page the hub SDK opens, in
// headless Chromium: who waits for the seed, the confirmation gate, and
// hostile links.
func TestSDKLinkInBrowser(t *testing.T) {
	b := newBrowser(t)
	svc := startService(t, nil)
	svc.must(t, "POST", "/v1/workspaces", map[string]any{"workspace_id": "acme", "display_name": "Acme"})
	svc.must(t, "POST", "/v1/workspaces/acme/members", map[string]any{"user_id": "alice"})

	t.Run("nobody polling", func(t *testing.T) { nobodyPolling(t, b, svc) })
	t.Run("a program polling", func(t *testing.T) { programPolling(t, b, svc) })
	t.Run("hostile links", func(t *testing.T) { hostileLinks(t, b, svc) })
	t.Run("list marks seed tokens and shows the effective end", func(t *testing.T) { seedMark(t, b, svc) })
}

func sdkLink(seed, message string) string {
	return "/create_token?" + url.Values{"seed": {seed}, "message": {message}}.Encode()
}

// dialogOpen reports whether the Generate dialog is open.
func dialogOpen(tb *tab) bool {
	return eval[bool](tb, `document.getElementById("generate-dialog").open`)
}

func nobodyPolling(t *testing.T, b context.Context, svc service) {
	tb := newTab(t, b)
	seed := teststack.NewSeed(t)
	signIn(t, tb, svc, sdkLink(seed, "Token for the SDK on build-host-7"))
	tb.waitText("#sdk-where", "No program is waiting for this token")
	warning := tb.waitText("#sdk-warning", "Warning")
	if !strings.Contains(warning, "do not generate it") {
		t.Errorf("warning = %q", warning)
	}
	if got := eval[string](tb, `getComputedStyle(document.getElementById("sdk-warning")).borderTopColor`); got == "" || got == "rgba(0, 0, 0, 0)" {
		t.Errorf("the warning has no visible border: %q", got)
	}
	if got := tb.text("#sdk-where"); !strings.Contains(got, "Your browser’s address, as the server sees it: 127.0.0.1") {
		t.Errorf("the page does not show the browser's address: %q", got)
	}
	if loc := eval[string](tb, `location.href`); strings.Contains(loc, seed) || strings.Contains(loc, "build-host") {
		t.Errorf("the link stays in the address bar: %s", loc)
	}
	if dialogOpen(tb) {
		t.Error("the Generate dialog opened by itself")
	}
	tb.snap("nobody-polling")

	// Generate stays disabled until the member says the request is theirs.
	tb.click("button", "Generate Workspace Token")
	tb.waitRole("dialog", "Generate Workspace Token")
	tb.waitText("#generate-where", "No program is waiting for this token")
	tb.snap("nobody-polling-dialog")
	if !eval[bool](tb, `document.getElementById("generate-submit").disabled`) {
		t.Error("Generate works before I started this request myself is ticked")
	}
	tb.typeInto("textbox", "Description", "phished")
	tb.typeInto("combobox", "Member", "alice")
	tb.do("press Enter in the form", chromedp.SendKeys("Description", "\r", byRole("textbox", "Description"), chromedp.NodeVisible))
	time.Sleep(300 * time.Millisecond)
	tb.click("checkbox", "I started this request myself")
	if eval[bool](tb, `document.getElementById("generate-submit").disabled`) {
		t.Error("Generate stays disabled after the box is ticked")
	}
	tb.click("checkbox", "I started this request myself")
	if !eval[bool](tb, `document.getElementById("generate-submit").disabled`) {
		t.Error("Generate works after the box is unticked")
	}
	tb.click("button", "Cancel", within(tb, "#generate-dialog"))
	toks := svc.must(t, "GET", "/v1/workspaces/acme/tokens", nil)["tokens"].([]any)
	for _, tok := range toks {
		if tok.(map[string]any)["description"] == "phished" {
			t.Error("a token was created without the confirmation")
		}
	}
}

func programPolling(t *testing.T, b context.Context, svc service) {
	seed := teststack.NewSeed(t)
	p := startPoller(t, svc.base, seed, "")
	tb := newTab(t, b)
	signIn(t, tb, svc, sdkLink(seed, "Token for the SDK on build-host-7"))
	tb.waitText("#sdk-where", "This token will be sent to the program waiting at 127.0.0.1.")
	if eval[bool](tb, `!document.getElementById("sdk-warning").hidden`) {
		t.Errorf("a warning for a program at the browser's own address: %q", tb.text("#sdk-warning"))
	}
	if got := tb.text("#sdk-message"); got != "Token for the SDK on build-host-7" {
		t.Errorf("quoted message = %q", got)
	}
	if dialogOpen(tb) {
		t.Error("the Generate dialog opened by itself")
	}
	tb.snap("program-polling")

	tb.click("button", "Generate Workspace Token")
	tb.waitRole("dialog", "Generate Workspace Token")
	tb.waitText("#generate-where", "waiting at 127.0.0.1")
	tb.typeInto("textbox", "Description", "SDK on build-host-7")
	tb.typeInto("combobox", "Member", "alice")
	tb.click("checkbox", "I started this request myself")
	tb.snap("program-polling-dialog")
	tb.click("button", "Generate")
	tb.waitText("#generated-sdk", "picks the token up by itself")
	tb.snap("sdk-done")
	if got := eval[string](tb, `document.getElementById("new-secret").textContent`); got != "" {
		t.Errorf("the SDK flow showed a secret")
	}
	picked := p.wait(t, 10*time.Second)
	valid, id := svc.validate(t, picked)
	if !valid {
		t.Fatal("the picked token does not validate")
	}
	if strings.Contains(eval[string](tb, `document.documentElement.outerHTML`), picked) {
		t.Errorf("the picked secret is in the DOM")
	}
	tb.click("button", "Done")
	row := `tr[data-token-id="` + id + `"]`
	tb.waitText(row, "SDK on build-host-7")
	// The mark shows exactly when the API says the token was made for a seed.
	got := svc.must(t, "GET", "/v1/workspaces/acme/tokens/"+id, nil)
	marked, _ := got["created_for_seed"].(bool)
	if shown := strings.Contains(tb.text(row), "Sent to a program"); shown != marked {
		t.Errorf("row %q shows the seed mark: %v; the API says created_for_seed %v", tb.text(row), shown, marked)
	}
}

// hostileLinks: a link anyone could send. Refused links offer no Generate;
// the page script refuses them too; accepted messages are quoted text only.
func hostileLinks(t *testing.T, b context.Context, svc service) {
	tb := newTab(t, b)
	signIn(t, tb, svc, "/ui/")
	for _, tc := range badLinks {
		t.Run(tc.name, func(t *testing.T) {
			tb.do("open the link", chromedp.Navigate(svc.base+"/create_token?"+tc.query.Encode()))
			tb.waitText("#link-title", "This link cannot be used")
			if n := eval[int](tb, `document.querySelectorAll("button, input, script").length`); n != 0 {
				t.Errorf("the refusal page has %d buttons, fields or scripts", n)
			}
		})
	}
	tb.snap("refused-link")
	// The page script holds the same rule, should the server's be skipped.
	tb.do("open the page", chromedp.Navigate(svc.base+"/ui/"))
	tb.waitText("#who-text", "Operator")
	for _, tc := range badLinks {
		js := `import("/ui/sdk.js").then(m => m.checkRequest(` + strconv.Quote("?"+tc.query.Encode()) + `).error || "")`
		if got := eval[string](tb, js); got == "" {
			t.Errorf("%s: the page script accepts %s", tc.name, tc.query.Encode())
		}
	}
	for _, tc := range goodLinks {
		t.Run(tc.name, func(t *testing.T) {
			tb.do("open the link", chromedp.Navigate(svc.base+sdkLink(teststack.NewSeed(t), tc.message)))
			tb.waitText("#sdk-where", "No program is waiting")
			if got := eval[string](tb, `document.getElementById("sdk-message").textContent`); got != tc.message {
				t.Errorf("quoted message = %q; want %q", got, tc.message)
			}
			if n := eval[int](tb, `document.getElementById("sdk-message").childElementCount + document.querySelectorAll("img, script:not([src='/ui/app.js'])").length`); n != 0 {
				t.Errorf("the message made %d elements", n)
			}
			if got := eval[string](tb, `document.title`); got != "Workspace Tokens" {
				t.Errorf("title = %q: the message ran", got)
			}
			if got := eval[string](tb, `[document.getElementById("sdk-message").dir, getComputedStyle(document.getElementById("sdk-message")).unicodeBidi, document.getElementById("sdk-message").closest("blockquote") ? "quoted" : "not quoted"].join(" ")`); got != "auto isolate quoted" {
				t.Errorf("message element = %q; want dir=auto, unicode-bidi isolate, in a blockquote", got)
			}
			if tc.message == "" && eval[bool](tb, `!document.getElementById("sdk-message-box").hidden`) {
				t.Error("an empty quotation is shown")
			}
			if dialogOpen(tb) {
				t.Error("the Generate dialog opened by itself")
			}
		})
	}
}

// seedMark checks the list's rendering of created_for_seed and
// effective_expire_time: the page's fetch is wrapped to add the fields the
// way the server reports them.
func seedMark(t *testing.T, b context.Context, svc service) {
	svc.must(t, "POST", "/v1/workspaces/acme/tokens", map[string]any{"user_id": "alice", "description": "from a link"})
	svc.must(t, "POST", "/v1/workspaces/acme/tokens", map[string]any{"user_id": "alice", "description": "typed in"})
	tb := newTab(t, b)
	tb.wrapTokenList(`
      tok.created_for_seed = tok.description === "from a link";
      if (tok.description === "from a link") tok.effective_expire_time = "2099-03-04T00:00:00Z";`)
	signIn(t, tb, svc, "/ui/")
	tb.waitText("#token-rows", "from a link")
	tb.snap("seed-mark")
	rows := eval[[]string](tb, `[...document.querySelectorAll("#token-rows tr")].map(r => r.innerText)`)
	for _, r := range rows {
		switch {
		case strings.Contains(r, "from a link"):
			if !strings.Contains(r, "Sent to a program") || !strings.Contains(r, "2099-03-04") || !strings.Contains(r, "by workspace policy") {
				t.Errorf("row %q; want the seed mark and the policy's end 2099-03-04", r)
			}
		case strings.Contains(r, "typed in"):
			if strings.Contains(r, "Sent to a program") || !strings.Contains(r, "Never") {
				t.Errorf("row %q; want no seed mark and no end", r)
			}
		}
	}
}
