package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"tokenauthority/daemon"
	"tokenauthority/token"
)

// TestPageInBrowser drives the Workspace Tokens page in headless Chromium
// against real servers, one browser for every case.
func TestPageInBrowser(t *testing.T) {
	b := newBrowser(t)
	svc := startService(t, nil)
	svc.must(t, "POST", "/v1/workspaces", map[string]any{"workspace_id": "acme", "display_name": "Acme"})
	for _, u := range []string{"alice", "bob"} {
		svc.must(t, "POST", "/v1/workspaces/acme/members", map[string]any{"user_id": u})
	}

	t.Run("operator generates, copies and deletes a token", func(t *testing.T) { operatorFlow(t, b, svc) })
	t.Run("server errors appear beside their fields", func(t *testing.T) { fieldErrors(t, b, svc) })
	t.Run("keyboard only", func(t *testing.T) { keyboardOnly(t, b, svc) })
	t.Run("last used column follows the API", func(t *testing.T) { lastUsed(t, b, svc) })
	t.Run("member mode shows only the member's tokens", func(t *testing.T) { memberMode(t, b) })
	t.Run("user header from an untrusted address is ignored", func(t *testing.T) { untrustedHeader(t, b) })
}

// signIn opens path as an operator and signs in with the admin credential.
func signIn(t *testing.T, tb *tab, svc service, path string) {
	t.Helper()
	tb.do("open the page", chromedp.Navigate(svc.base+path))
	if got := eval[string](tb, `document.body.innerText`); strings.Contains(got, svc.admin) {
		t.Errorf("the page shows the credential")
	}
	tb.waitRole("textbox", "Service credential")
	tb.snap("sign-in")
	tb.typeInto("textbox", "Service credential", svc.admin)
	tb.click("button", "Sign in")
	tb.waitText("#who-text", "Operator")
}

// within scopes a query to the first element matching css.
func within(tb *tab, css string) chromedp.QueryOption {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		tb.t.Fatalf("find %s: %v", css, err)
	}
	return chromedp.FromNode(nodes[0])
}

func operatorFlow(t *testing.T, b context.Context, svc service) {
	tb := newTab(t, b)
	origin := svc.base
	if _, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: origin,
	}); err != nil {
		t.Fatalf("grant clipboard: %v", err)
	}
	if _, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write"}, Setting: browser.PermissionSettingGranted, Origin: origin,
	}); err != nil {
		t.Fatalf("grant clipboard write: %v", err)
	}
	signIn(t, tb, svc, "/ui/")
	if _, err := chromedp.Call(tb.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate focus: %v", err)
	}
	tb.waitText("#empty", "Generate Workspace Token")
	tb.snap("empty")

	// Generate with a description and a 30-day expiry.
	tb.click("button", "Generate Workspace Token")
	tb.waitRole("dialog", "Generate Workspace Token")
	tb.typeInto("textbox", "Description", "CI runner")
	tb.waitText("#description-count", "9 / 256")
	tb.setValue("combobox", "Expiration", "30")
	tb.typeInto("combobox", "Member", "alice")
	tb.snap("generate-dialog")
	tb.click("button", "Generate")
	secret := tb.waitText("#new-secret", "_")
	tb.snap("new-token")
	if got := tb.text("#generated-secret-box .warning"); !strings.Contains(got, "will not be shown again") {
		t.Errorf("new-token warning = %q", got)
	}
	valid, id := svc.validate(t, secret)
	if !valid {
		t.Fatalf("the secret the page showed does not validate")
	}
	tb.click("button", "Done")
	row := `tr[data-token-id="` + id + `"]`
	tb.waitText(row, "CI runner")
	tb.snap("list")
	// The Last used column shows exactly when the API reports the field.
	listed := svc.must(t, "GET", "/v1/workspaces/acme/tokens", nil)["tokens"].([]any)
	_, reported := listed[0].(map[string]any)["last_used_time"]
	if shown := eval[bool](tb, `!document.getElementById("last-used-head").hidden`); shown != reported {
		t.Errorf("Last used column shown = %v; the API reports last_used_time: %v", shown, reported)
	}
	if got, want := tb.text(row+" .masked"), token.Mask(secret); got != want || strings.Contains(got, secret) {
		t.Errorf("masked key = %q; want %q", got, want)
	}
	if got := tb.text(row); !strings.Contains(got, "in 30 days") || !strings.Contains(got, "alice") || !strings.Contains(got, "Active") {
		t.Errorf("row = %q; want user alice, expiry in 30 days, Active", got)
	}
	if html := eval[string](tb, `document.documentElement.outerHTML`); strings.Contains(html, secret) {
		t.Errorf("the secret is still in the DOM after the new-token box closed")
	}
	if got := eval[string](tb, `JSON.stringify([Object.keys(sessionStorage), localStorage.length, document.cookie])`); got != `[["tokenauthority.credential"],0,""]` {
		t.Errorf("storage = %s; want only the credential in sessionStorage", got)
	}
	if got := eval[string](tb, `sessionStorage.getItem("tokenauthority.credential")`); got != svc.admin {
		t.Errorf("sessionStorage credential is not the one typed in")
	}
	if strings.Contains(eval[string](tb, `location.href`), svc.admin) {
		t.Errorf("the credential is in the URL")
	}

	// Copy puts the secret on the clipboard, with a visible confirmation.
	tb.click("button", "Copy", within(tb, row))
	tb.waitText(row+" .copied", "Copied")
	tb.snap("copied")
	if got := eval[string](tb, `navigator.clipboard.readText()`); got != secret {
		t.Errorf("clipboard = %q; want the token's secret", got)
	}

	// Delete, cancelled: the token stays.
	tb.click("button", "Delete", within(tb, row))
	tb.waitRole("dialog", "Delete token?")
	if got := tb.text("#delete-text"); !strings.Contains(got, "CI runner") || !strings.Contains(got, token.Mask(secret)) || !strings.Contains(got, "immediately") {
		t.Errorf("delete dialog says %q; want the description, the masked key and that it stops working immediately", got)
	}
	tb.snap("delete-dialog")
	tb.click("button", "Cancel", within(tb, "#delete-dialog"))
	tb.do("dialog closes", chromedp.WaitNotVisible(chromedp.CSS("#delete-dialog")))
	tb.waitText(row, "CI runner")
	if valid, _ := svc.validate(t, secret); !valid {
		t.Fatalf("the token stopped validating after Cancel")
	}

	// Delete, confirmed: the row goes and the token stops working.
	tb.deleteRow(row)
	if valid, _ := svc.validate(t, secret); valid {
		t.Errorf("the deleted token still validates")
	}
	tb.click("switch", "Show inactive")
	tb.waitText(row, "Revoked")
	tb.snap("inactive")

	// Sign out forgets the credential.
	tb.click("button", "Sign out")
	tb.waitRole("textbox", "Service credential")
	if got := eval[int](tb, `sessionStorage.length`); got != 0 {
		t.Errorf("sessionStorage holds %d items after Sign out", got)
	}
}

func fieldErrors(t *testing.T, b context.Context, svc service) {
	tb := newTab(t, b)
	signIn(t, tb, svc, "/ui/")
	tb.click("button", "Generate Workspace Token")
	tb.waitRole("dialog", "Generate Workspace Token")
	tb.typeInto("textbox", "Description", "old")
	tb.typeInto("combobox", "Member", "alice")
	tb.setValue("combobox", "Expiration", "custom")
	yesterday := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	tb.setValue("Date", "Expiration date", yesterday) // Chromium's role of a date input
	tb.click("button", "Generate")
	if got := tb.waitText("#expiration-error", "must be in the future"); got == "" {
		t.Fatal("no expiry error")
	}
	tb.snap("expiry-error")
	if got := eval[string](tb, `document.getElementById("expiration").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("Expiration aria-invalid = %q; want true", got)
	}
	if got := eval[string](tb, `document.getElementById("description-error").textContent`); got != "" {
		t.Errorf("description error %q for a fine description", got)
	}

	tb.setValue("combobox", "Expiration", "7")
	tb.setValue("combobox", "Member", "mallory")
	tb.click("button", "Generate")
	tb.waitText("#member-error", "not a member")
	tb.snap("member-error")
	if got := eval[string](tb, `document.getElementById("expiration-error").textContent`); got != "" {
		t.Errorf("expiration error %q stayed after a new answer", got)
	}
	tb.click("button", "Cancel", within(tb, "#generate-dialog"))
	tb.do("dialog closes", chromedp.WaitNotVisible(chromedp.CSS("#generate-dialog")))
}

// keyboardOnly signs in and opens and closes the Generate dialog without
// the mouse.
func keyboardOnly(t *testing.T, b context.Context, svc service) {
	tb := newTab(t, b)
	tb.do("open the page", chromedp.Navigate(svc.base+"/ui/"))
	tb.waitRole("textbox", "Service credential")
	tb.typeInto("textbox", "Service credential", svc.admin+kb.Enter)
	tb.waitText("#who-text", "Operator")
	tb.do("focus Generate", chromedp.Focus("Generate Workspace Token", byRole("button", "Generate Workspace Token"), chromedp.NodeVisible))
	tb.do("press Enter", chromedp.KeyEvent(kb.Enter))
	tb.waitRole("dialog", "Generate Workspace Token")
	if got := eval[string](tb, `document.activeElement.id`); got != "description" {
		t.Errorf("focus in the dialog is on %q; want the Description field", got)
	}
	tb.do("press Escape", chromedp.KeyEvent(kb.Escape))
	tb.do("dialog closes", chromedp.WaitNotVisible(chromedp.CSS("#generate-dialog")))
}

// lastUsed checks that the Last used column appears, with its dates, once
// token responses carry last_used_time: the page's fetch is wrapped to add
// the field the way the server will.
func lastUsed(t *testing.T, b context.Context, svc service) {
	svc.must(t, "POST", "/v1/workspaces/acme/tokens", map[string]any{"user_id": "bob", "description": "used one"})
	tb := newTab(t, b)
	tb.wrapTokenList(`tok.last_used_time = tok.description === "used one" ? "2026-11-20T10:00:00Z" : null;`)
	signIn(t, tb, svc, "/ui/")
	tb.waitText("#token-rows", "used one")
	tb.snap("last-used")
	if got := tb.text("#last-used-head"); got != "Last used" {
		t.Errorf("column head = %q; want Last used", got)
	}
	if got := tb.text("#token-rows"); !strings.Contains(got, "2026-11-20") {
		t.Errorf("rows = %q; want the last-used date", got)
	}
}

func memberMode(t *testing.T, b context.Context) {
	svc := startService(t, func(c *daemon.Config) {
		c.TrustedUserHeader = "X-Forwarded-User"
		c.TrustedProxies = "127.0.0.1/32"
	})
	svc.must(t, "POST", "/v1/workspaces", map[string]any{"workspace_id": "acme"})
	svc.must(t, "POST", "/v1/workspaces", map[string]any{"workspace_id": "beta"})
	for _, u := range []string{"alice", "bob"} {
		svc.must(t, "POST", "/v1/workspaces/acme/members", map[string]any{"user_id": u})
		svc.must(t, "POST", "/v1/workspaces/acme/tokens", map[string]any{"user_id": u, "description": u + " laptop"})
	}
	tb := newTab(t, b)
	// The sign-on proxy in front of the page sets this on every request.
	if _, err := chromedp.Call(tb.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"X-Forwarded-User": "alice"}}); err != nil {
		t.Fatal(err)
	}
	tb.do("open the page", chromedp.Navigate(svc.base+"/ui/"))
	tb.waitText("#who-text", "Signed in as alice")
	tb.waitText("#token-rows", "alice laptop")
	tb.snap("member")
	if n := eval[int](tb, `document.querySelectorAll("#token-rows tr").length`); n != 1 {
		t.Errorf("alice sees %d tokens; want 1", n)
	}
	if body := eval[string](tb, `document.body.innerText`); strings.Contains(body, "bob") {
		t.Errorf("alice's page mentions bob:\n%s", body)
	}
	if ws := eval[string](tb, `[...document.querySelectorAll("#workspace option")].map(o => o.value).join(",")`); ws != "acme" {
		t.Errorf("workspaces offered = %q; want acme only", ws)
	}
	if eval[bool](tb, `!document.getElementById("sign-out").hidden || !document.getElementById("sign-in").hidden`) {
		t.Errorf("member mode shows the operator's sign-in or Sign out")
	}

	tb.click("button", "Generate Workspace Token")
	tb.waitRole("dialog", "Generate Workspace Token")
	tb.typeInto("textbox", "Description", "alice ci")
	tb.click("button", "Generate")
	secret := tb.waitText("#new-secret", "_")
	if valid, _ := svc.validate(t, secret); !valid {
		t.Errorf("alice's new token does not validate")
	}
	tb.click("button", "Done")
	tb.waitText("#token-rows", "alice ci")
	list := svc.must(t, "GET", "/v1/workspaces/acme/tokens", nil)["tokens"].([]any)
	var id string
	for _, tok := range list {
		m := tok.(map[string]any)
		if m["description"] == "alice ci" {
			id, _ = m["token_id"].(string)
			if m["user_id"] != "alice" {
				t.Errorf("alice's page made a token for %v", m["user_id"])
			}
		}
	}
	// Copy (a POST) and Delete (a DELETE) pass the member-mode rule for
	// state-changing requests: the page sends JSON from its own origin.
	for _, p := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: p}, Setting: browser.PermissionSettingGranted, Origin: svc.base,
		}); err != nil {
			t.Fatalf("grant %s: %v", p, err)
		}
	}
	if _, err := chromedp.Call(tb.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate focus: %v", err)
	}
	row := `tr[data-token-id="` + id + `"]`
	tb.click("button", "Copy", within(tb, row))
	tb.waitText(row+" .copied", "Copied")
	if got := eval[string](tb, `navigator.clipboard.readText()`); got != secret {
		t.Errorf("clipboard = %q; want alice's new secret", got)
	}
	tb.deleteRow(row)
	if valid, _ := svc.validate(t, secret); valid {
		t.Errorf("the token alice deleted still validates")
	}
}

func untrustedHeader(t *testing.T, b context.Context) {
	svc := startService(t, func(c *daemon.Config) {
		c.TrustedUserHeader = "X-Forwarded-User"
		c.TrustedProxies = "10.0.0.0/8" // not the test's 127.0.0.1
	})
	tb := newTab(t, b)
	if _, err := chromedp.Call(tb.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"X-Forwarded-User": "alice"}}); err != nil {
		t.Fatal(err)
	}
	tb.do("open the page", chromedp.Navigate(svc.base+"/ui/"))
	tb.waitRole("textbox", "Service credential")
	tb.snap("untrusted")
	if eval[bool](tb, `!document.getElementById("who").hidden`) {
		t.Errorf("the page shows someone signed in from an untrusted address")
	}
}
