package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// undocumented are the paths the server answers that /openapi.json leaves
// out on purpose: HTML pages for a browser, not an API.
var undocumented = map[string]string{
	"/ui/":          "the Workspace Tokens page (HTML, JavaScript, CSS)",
	"/create_token": "the page the hub SDK opens in a browser (HTML)",
}

// openapiCheck validates every request it carries and the server's answer
// against the server's own /openapi.json, so that the document cannot drift
// from what the server does. A request the document calls valid must get a
// documented response; one it calls invalid (no credential, a malformed
// body, an unknown path) must be refused with a documented error body.
// Mismatches fail the test.
type openapiCheck struct {
	t      *testing.T
	next   http.RoundTripper
	router routers.Router
	errors *openapi3.Schema

	mu      sync.Mutex
	checked int
}

// newOpenAPICheck loads the document p serves and returns a check whose
// round trips go to p. The number of checked pairs is logged at the end.
func newOpenAPICheck(t *testing.T, p *proc) *openapiCheck {
	t.Helper()
	resp, err := http.Get("http://" + p.httpAddr + "/openapi.json")
	if err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("loading /openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("/openapi.json is not valid OpenAPI 3: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("routing /openapi.json: %v", err)
	}
	c := &openapiCheck{t: t, next: http.DefaultTransport.(*http.Transport).Clone(), router: router, errors: doc.Components.Schemas["Error"].Value}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Logf("openapi: %d request/response pairs checked against /openapi.json", c.checked)
	})
	return c
}

// RoundTrip sends req and checks the exchange. A transport failure (a
// server that was killed) is passed on unchecked.
func (c *openapiCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := c.check(req, body, resp, respBody); err != nil {
		c.t.Errorf("openapi: %s %s -> %d: %v\nrequest body: %.300s\nresponse body: %.300s", req.Method, req.URL.RequestURI(), resp.StatusCode, err, body, respBody)
	}
	return resp, nil
}

// check validates one exchange; nil when it matches the document or is
// one of the undocumented paths.
func (c *openapiCheck) check(req *http.Request, body []byte, resp *http.Response, respBody []byte) error {
	for prefix := range undocumented {
		if req.URL.Path == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(req.URL.Path, prefix) {
			return nil
		}
	}
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()

	ctx := context.Background()
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > 0 && vreq.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		// curl -d's default type. The server reads every body as JSON,
		// whatever its Content-Type; the document says application/json.
		vreq.Header.Set("Content-Type", "application/json")
	}
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		// No such operation: the answer must be an error body.
		if resp.StatusCode < 400 {
			return fmt.Errorf("undocumented operation answered %d (%v)", resp.StatusCode, err)
		}
		return c.errorBody(resp, respBody)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:                bearerPresent,
			RejectWhenRequestBodyNotSpecified: true,
			MultiError:                        true,
		},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	respErr := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	switch {
	case reqErr != nil && resp.StatusCode < 400:
		return fmt.Errorf("the server accepted a request the document calls invalid: %v", reqErr)
	case respErr != nil:
		return fmt.Errorf("response does not match the document: %v", respErr)
	}
	return nil
}

// errorBody checks an answer outside every documented operation against
// the Error schema.
func (c *openapiCheck) errorBody(resp *http.Response, body []byte) error {
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("error answer has Content-Type %q", ct)
	}
	v, err := decodeJSON(body)
	if err != nil {
		return err
	}
	if err := c.errors.VisitJSON(v); err != nil {
		return fmt.Errorf("error answer is not the Error body: %w", err)
	}
	return nil
}

func decodeJSON(body []byte) (any, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	return v, nil
}

// bearerPresent is the check of the ServiceCredential scheme: the document
// requires the header; whether the credential is good is the server's
// business (a wrong one is a documented 401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	name := in.SecurityScheme.Name
	if in.RequestValidationInput.Request.Header.Get(name) == "" {
		return errors.New("no " + name + " header")
	}
	return nil
}

// openapiProxy puts a loopback reverse proxy that runs the check in front
// of p, for clients that cannot take a RoundTripper (curl); it returns the
// proxy's host:port.
func openapiProxy(t *testing.T, p *proc) string {
	t.Helper()
	check := newOpenAPICheck(t, p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host, out.Host = "http", p.httpAddr, p.httpAddr
		resp, err := check.RoundTrip(out)
		if err != nil {
			t.Errorf("openapi proxy: %s %s: %v", r.Method, r.URL, err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
