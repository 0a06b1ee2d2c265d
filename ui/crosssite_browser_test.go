package ui_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tokenauthority/daemon"
	"tokenauthority/internal/teststack"
)

// ssoProxy stands for the single sign-on proxy of member mode: it signs
// every request in as user (as a proxy that knows people by a cookie or
// by their network does), keeps the Host the browser asked for, and
// appends the client to X-Forwarded-For.
func ssoProxy(t *testing.T, hub, user string) *httptest.Server {
	t.Helper()
	target, err := url.Parse(hub)
	if err != nil {
		t.Fatal(err)
	}
	p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		r.SetXForwarded()
		r.Out.Header.Set("X-Forwarded-User", user)
	}}
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	return s
}

// attack is a page of another site that makes the browser send a request
// to the hub.
type attack struct {
	name string
	// form is a form posted to path with enctype; empty for script.
	enctype, path string
	fields        [][2]string
	// script runs in the page instead (fetch); it ends by setting
	// document.title to "done".
	script string
}

func (a attack) page(hub string) string {
	if a.script != "" {
		return `<!doctype html><title>evil</title><script>const hub = "` + hub + `";` + a.script + `</script>`
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><title>evil</title><form method="post" action="%s%s" enctype="%s">`, hub, a.path, a.enctype)
	for _, f := range a.fields {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(f[0]), html.EscapeString(f[1]))
	}
	b.WriteString(`</form><script>document.forms[0].submit()</script>`)
	return b.String()
}

// TestMemberModeCrossSite: in member mode over plain HTTP, where browsers
// send no Sec-Fetch-Site, pages of another site (evil.test) cannot make the
// browser create, roll or delete a member's token on the hub (hub.test);
// the hub's own page keeps working. Both names map to loopback in Chromium.
func TestMemberModeCrossSite(t *testing.T) {
	svc := startService(t, func(c *daemon.Config) {
		c.TrustedUserHeader = "X-Forwarded-User"
		c.TrustedProxies = "127.0.0.1/32"
	})
	svc.must(t, "POST", "/v1/workspaces", map[string]any{"workspace_id": "acme"})
	svc.must(t, "POST", "/v1/workspaces/acme/members", map[string]any{"user_id": "alice"})
	tok := svc.must(t, "POST", "/v1/workspaces/acme/tokens", map[string]any{"user_id": "alice", "description": "alice laptop"})
	aliceTok := tok["token"].(map[string]any)["token_id"].(string)
	proxy := ssoProxy(t, svc.base, "alice")
	hub := "http://hub.test:" + proxy.URL[strings.LastIndex(proxy.URL, ":")+1:]
	seed := teststack.NewSeed(t)

	// A text/plain form sends name=value: the "=" lands inside the last
	// string, so the body is valid JSON.
	create := `{"user_id":"alice","seed":"` + seed + `","description":"evil`
	body := `JSON.stringify({user_id: "alice", description: "evil", seed: "` + seed + `"})`
	attacks := []attack{
		{name: "text/plain form creates", enctype: "text/plain", path: "/v1/workspaces/acme/tokens",
			fields: [][2]string{{create, `"}`}}},
		{name: "urlencoded form creates", enctype: "application/x-www-form-urlencoded", path: "/v1/workspaces/acme/tokens",
			fields: [][2]string{{create + `"}`, ""}}},
		{name: "multipart form creates", enctype: "multipart/form-data", path: "/v1/workspaces/acme/tokens",
			fields: [][2]string{{"user_id", "alice"}, {"description", "evil"}}},
		{name: "text/plain form rolls", enctype: "text/plain", path: "/v1/workspaces/acme/tokens/" + aliceTok + ":roll",
			fields: [][2]string{{`{"grace":"60s","workspace_id":"acme`, `"}`}}}, // the path's workspace_id wins
		{name: "no-cors fetch creates", script: `fetch(hub + "/v1/workspaces/acme/tokens", {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "application/json"}, body: ` + body + `}).finally(() => document.title = "done");`},
		{name: "simple cors fetch creates", script: `fetch(hub + "/v1/workspaces/acme/tokens", {method: "POST", credentials: "include", headers: {"Content-Type": "text/plain"}, body: ` + body + `}).catch(() => {}).finally(() => document.title = "done");`},
		{name: "JSON cors fetch creates", script: `fetch(hub + "/v1/workspaces/acme/tokens", {method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body: ` + body + `}).catch(() => {}).finally(() => document.title = "done");`},
		{name: "cors fetch deletes", script: `fetch(hub + "/v1/workspaces/acme/tokens/` + aliceTok + `", {method: "DELETE", credentials: "include", headers: {"Content-Type": "application/json"}}).catch(() => {}).finally(() => document.title = "done");`},
		{name: "beacons create", script: `try { navigator.sendBeacon(hub + "/v1/workspaces/acme/tokens", new Blob([` + body + `], {type: "application/json"})); } catch (e) {}
navigator.sendBeacon(hub + "/v1/workspaces/acme/tokens", ` + body + `);
setTimeout(() => document.title = "done", 1000);`},
		{name: "no-cors fetch rolls", script: `fetch(hub + "/v1/workspaces/acme/tokens/` + aliceTok + `:roll", {method: "POST", mode: "no-cors", credentials: "include", body: '{"grace":"60s"}'}).finally(() => document.title = "done");`},
	}
	pages := http.NewServeMux()
	for i, a := range attacks {
		pages.HandleFunc(fmt.Sprintf("/attack/%d", i), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, a.page(hub))
		})
	}
	evilSrv := httptest.NewServer(pages)
	t.Cleanup(evilSrv.Close)
	evil := "http://evil.test:" + evilSrv.URL[strings.LastIndex(evilSrv.URL, ":")+1:]

	b := newBrowser(t, chromedp.Flag("host-resolver-rules", "MAP hub.test 127.0.0.1, MAP evil.test 127.0.0.1"))
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			tb := newTab(t, b)
			tb.do("open the attacker's page", chromedp.Navigate(fmt.Sprintf("%s/attack/%d", evil, i)))
			if a.script != "" {
				deadline := time.Now().Add(stepTimeout)
				for eval[string](tb, `document.title`) != "done" {
					if time.Now().After(deadline) {
						t.Fatal("the attack script never finished")
					}
					time.Sleep(50 * time.Millisecond)
				}
				return
			}
			// The form navigates the tab to the hub's answer.
			got := tb.waitText("body", "detail")
			if !strings.Contains(got, "Content-Type: application/json") {
				t.Errorf("the hub answered the %s form with %q; want the 415 refusal", a.enctype, got)
			}
		})
	}
	// Nothing changed: alice still has her one token, active and unrolled.
	list := svc.must(t, "GET", "/v1/workspaces/acme/tokens?show_revoked=true", nil)["tokens"].([]any)
	if len(list) != 1 {
		t.Errorf("after the attacks the workspace has %d tokens; want alice's one: %v", len(list), list)
	}
	got := svc.must(t, "GET", "/v1/workspaces/acme/tokens/"+aliceTok, nil)
	if got["state"] != "TOKEN_STATE_ACTIVE" || got["replaced_by"] != nil && got["replaced_by"] != "" {
		t.Errorf("alice's token after the attacks = %v; want active and not rolled", got)
	}
	if code := pickStatus(t, svc.base, seed); code != http.StatusNotFound {
		t.Errorf("the attacker's seed can be picked: %d", code)
	}

	t.Run("the hub's own page keeps working", func(t *testing.T) {
		tb := newTab(t, b)
		tb.do("open the page", chromedp.Navigate(hub+"/ui/"))
		tb.waitText("#who-text", "Signed in as alice")
		tb.click("button", "Generate Workspace Token")
		tb.waitRole("dialog", "Generate Workspace Token")
		tb.typeInto("textbox", "Description", "alice ci")
		tb.click("button", "Generate")
		secret := tb.waitText("#new-secret", "_")
		valid, id := svc.validate(t, secret)
		if !valid {
			t.Fatal("the token alice's page made does not validate")
		}
		tb.click("button", "Done")
		row := `tr[data-token-id="` + id + `"]`
		tb.waitText(row, "alice ci")
		tb.deleteRow(row)
		if valid, _ := svc.validate(t, secret); valid {
			t.Error("the token alice deleted still validates")
		}
	})

	t.Run("a program at another address", func(t *testing.T) {
		seed := teststack.NewSeed(t)
		// The program polls through a proxy that names it 203.0.113.9.
		startPoller(t, svc.base, seed, "203.0.113.9")
		tb := newTab(t, b)
		tb.do("open the link", chromedp.Navigate(hub+sdkLink(seed, "Token for build-host-7")))
		tb.waitText("#sdk-where", "This token will be sent to the program waiting at 203.0.113.9.")
		if got := tb.text("#sdk-where"); !strings.Contains(got, "as the server sees it: 127.0.0.1") {
			t.Errorf("where = %q; want the browser's address 127.0.0.1", got)
		}
		tb.waitText("#sdk-warning", "different address")
		tb.snap("different-address")
	})
}

// pickStatus polls a seed once.
func pickStatus(t *testing.T, base, seed string) int {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/tokens-seed/pick", "application/json", strings.NewReader(`{"seed":"`+seed+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
