package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"tokenauthority/daemon"
)

// chromiumPath is Debian's Chromium, which scripts/test installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts one headless Chromium for a whole test. The flags keep it
// off the network: without them it hangs on a machine with no internet.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			t.Fatalf("the browser tests need Chromium (apt-get install chromium): %v", err)
		}
		path = p
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
	}, extra...)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(cancelCtx)
	// Start the browser now, so that a missing or broken one fails here.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// service is a daemon started in-process for the browser to talk to.
type service struct {
	base  string
	admin string
}

func startService(t *testing.T, configure func(*daemon.Config)) service {
	t.Helper()
	cfg := daemon.Defaults()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	if configure != nil {
		configure(&cfg)
	}
	d, err := daemon.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin.credential"))
	if err != nil {
		t.Fatal(err)
	}
	return service{base: "http://" + d.HTTPAddr.String(), admin: strings.TrimSpace(string(b))}
}

// api calls the REST API as the admin and decodes the JSON answer.
func (s service) api(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, m
}

func (s service) must(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	code, m := s.api(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s = %d %v", method, path, code, m)
	}
	return m
}

// validate reports whether secret is a valid token, and its token id.
func (s service) validate(t *testing.T, secret string) (bool, string) {
	t.Helper()
	m := s.must(t, "POST", "/v1/tokens:validate", map[string]any{"secret": secret})
	valid, _ := m["valid"].(bool)
	id := ""
	if tok, ok := m["token"].(map[string]any); ok {
		id, _ = tok["token_id"].(string)
	}
	return valid, id
}

// tab is one browser tab of a test, with the screenshots of its main
// states, written to the test output folder when the test fails.
type tab struct {
	t     *testing.T
	ctx   context.Context
	shots []shot
}

type shot struct {
	name string
	png  []byte
}

// outputDir is where screenshots go: $TEST_OUTPUT_DIR, or test-output in
// the package directory.
func outputDir() string {
	if d := os.Getenv("TEST_OUTPUT_DIR"); d != "" {
		return d
	}
	return "test-output"
}

func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	// Start the tab, so that per-step deadlines below cannot end it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("UI_SCREENSHOTS") == "always" {
			tb.snap("at-end")
			tb.writeShots()
		}
		cancel()
	})
	return tb
}

// snap records a screenshot of the page as it is now.
func (tb *tab) snap(name string) {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	tb.shots = append(tb.shots, shot{name, png})
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (tb *tab) writeShots() {
	dir := filepath.Join(outputDir(), unsafeName.ReplaceAllString(tb.t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Logf("screenshots: %v", err)
		return
	}
	for i, s := range tb.shots {
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", i, s.name))
		if err := os.WriteFile(p, s.png, 0o644); err != nil {
			tb.t.Logf("screenshot: %v", err)
			continue
		}
		tb.t.Logf("screenshot: %s", p)
	}
}

// do runs actions and fails the test on the first error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// stepTimeout bounds each step, so a control that never appears fails fast.
const stepTimeout = 10 * time.Second

// byRole finds elements the way a screen reader user would: by their
// accessibility role and accessible name, as Chromium computes them.
func byRole(role, name string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
			NodeID: n.NodeID, Role: role, AccessibleName: name,
		})
		if err != nil {
			return nil, err
		}
		var backend []cdp.BackendNodeID
		for _, ax := range res.Nodes {
			if !ax.Ignored && ax.BackendDOMNodeID != 0 {
				backend = append(backend, ax.BackendDOMNodeID)
			}
		}
		if len(backend) == 0 {
			return nil, nil
		}
		pushed, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		if err != nil {
			return nil, err
		}
		return pushed.NodeIDs, nil
	})
}

func label(role, name string) string { return role + " " + strconv.Quote(name) }

// click clicks, with the mouse, the visible element of role and name.
func (tb *tab) click(role, name string, opts ...chromedp.QueryOption) {
	tb.t.Helper()
	opts = append([]chromedp.QueryOption{byRole(role, name), chromedp.NodeVisible}, opts...)
	tb.do("click "+label(role, name), chromedp.Click(label(role, name), opts...))
}

// typeInto types text, key by key, into the visible field of role and name.
func (tb *tab) typeInto(role, name, text string) {
	tb.t.Helper()
	tb.do("type into "+label(role, name), chromedp.SendKeys(label(role, name), text, byRole(role, name), chromedp.NodeVisible))
}

// setValue sets the value of the visible form control of role and name and
// tells the page, as picking an option or a date does.
func (tb *tab) setValue(role, name, value string) {
	tb.t.Helper()
	js := `function() { this.value = ` + strconv.Quote(value) + `; this.dispatchEvent(new Event("input", {bubbles: true})); this.dispatchEvent(new Event("change", {bubbles: true})); }`
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.QueryAfter(label(role, name), func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (chromedp.Void, error) {
		obj, err := cdp.Call(ctx, t, dom.ResolveNode, dom.ResolveNodeParams{NodeID: nodes[0].NodeID})
		if err != nil {
			return chromedp.Void{}, err
		}
		_, err = cdp.Call(ctx, t, runtime.CallFunctionOn, runtime.CallFunctionOnParams{FunctionDeclaration: js, ObjectID: obj.Object.ObjectID})
		return chromedp.Void{}, err
	}, byRole(role, name), chromedp.NodeVisible))
	if err != nil {
		tb.t.Fatalf("set %s to %q: %v", label(role, name), value, err)
	}
}

// waitRole waits until an element of role and name is visible.
func (tb *tab) waitRole(role, name string) {
	tb.t.Helper()
	tb.do("wait for "+label(role, name), chromedp.WaitVisible(label(role, name), byRole(role, name)))
}

// text returns the text of the first element matching css, once visible.
func (tb *tab) text(css string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// waitText waits until the text of css contains want.
func (tb *tab) waitText(css, want string) string {
	tb.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var got string
	for time.Now().Before(deadline) {
		s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(document.querySelector(`+strconv.Quote(css)+`) || {}).textContent || ""`))
		if err != nil {
			tb.t.Fatalf("text of %s: %v", css, err)
		}
		if got = strings.TrimSpace(s); strings.Contains(got, want) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.t.Fatalf("text of %s = %q; want it to contain %q", css, got, want)
	return ""
}

// eval evaluates JavaScript in the page and awaits its promise.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// wrapTokenList makes the page see token lists as the server will send
// them once it reports more: perToken is JavaScript run on each token
// ("tok") of every list answer before the page reads it.
func (tb *tab) wrapTokenList(perToken string) {
	tb.t.Helper()
	wrap := `{
  const orig = window.fetch;
  window.fetch = async (...args) => {
    const resp = await orig(...args);
    if (!String(args[0]).includes("/tokens?")) return resp;
    const data = await resp.json();
    for (const tok of data.tokens || []) { ` + perToken + ` }
    return new Response(JSON.stringify(data), {status: resp.status, headers: resp.headers});
  };
}`
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: wrap}); err != nil {
		tb.t.Fatal(err)
	}
}

// deleteRow deletes the token of the table row css through its Delete
// button and the confirmation dialog, and waits for the row to go.
func (tb *tab) deleteRow(row string) {
	tb.t.Helper()
	tb.click("button", "Delete", within(tb, row))
	tb.waitRole("dialog", "Delete token?")
	tb.click("button", "Delete", within(tb, "#delete-dialog"))
	tb.do("row goes", chromedp.WaitNotPresent(chromedp.CSS(row)))
}
