package teststack

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// REST calls a daemon's REST API with a credential.
type REST struct {
	t          testing.TB
	Base       string // http://host:port
	Credential string // sent as "authorization: Bearer"; none when empty
}

// REST returns a client sending the admin credential.
func (d *Daemon) REST() *REST {
	return &REST{t: d.t, Base: d.URL(), Credential: d.Admin}
}

// Do sends a request with the client's credential and the extra headers;
// it returns the status, headers and body.
func (c *REST) Do(method, path, body string, header map[string]string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.Base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.Credential != "" {
		req.Header.Set("Authorization", "Bearer "+c.Credential)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, string(data)
}

// Must sends a request and fails the test unless it answers want; it
// returns the body.
func (c *REST) Must(method, path, body string, want int) string {
	c.t.Helper()
	code, _, data := c.Do(method, path, body, nil)
	if code != want {
		c.t.Fatalf("%s %s = %d %s; want %d", method, path, code, data, want)
	}
	return data
}

// As returns a copy of c that sends credential instead; "" sends none.
func (c *REST) As(credential string) *REST {
	cp := *c
	cp.Credential = credential
	return &cp
}

// JSON sends a request with the client's credential and decodes the
// answer, which must be a JSON object; it returns the status and the
// object.
func (c *REST) JSON(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	code, _, data := c.Do(method, path, body, nil)
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		c.t.Fatalf("%s %s = %d; body is not a JSON object: %s", method, path, code, data)
	}
	return code, m
}

// For returns a copy of c that reports failures to t, for use in a
// subtest.
func (c *REST) For(t testing.TB) *REST {
	cp := *c
	cp.t = t
	return &cp
}
