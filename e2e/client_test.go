package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// client speaks REST to a running server as the bootstrap admin.
type client struct {
	base  string
	admin string
	http  *http.Client
}

// newClient checks every exchange against the server's /openapi.json.
func newClient(t *testing.T, p *proc) *client {
	return &client{base: "http://" + p.httpAddr, admin: p.admin, http: &http.Client{Timeout: 10 * time.Second, Transport: newOpenAPICheck(t, p)}}
}

// do sends a request with the admin credential and decodes a JSON object.
func (c *client) do(method, path, body string) (map[string]any, int, error) {
	return c.doHeaders(method, path, body, map[string]string{"Authorization": "Bearer " + c.admin})
}

func (c *client) doHeaders(method, path, body string, headers map[string]string) (map[string]any, int, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return nil, 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return map[string]any{"_raw": string(data)}, resp.StatusCode, nil
	}
	return m, resp.StatusCode, nil
}

// mustJSON sends a request and fails the test unless the status is want.
func (c *client) mustJSON(t *testing.T, method, path, body string, want int) map[string]any {
	t.Helper()
	m, status, err := c.do(method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		t.Fatalf("%s %s = %d %v; want %d", method, path, status, m, want)
	}
	return m
}

// members creates workspace ws with users as its members.
func (c *client) members(t *testing.T, ws string, users ...string) {
	t.Helper()
	c.mustJSON(t, "POST", "/v1/workspaces", `{"workspace_id":"`+ws+`"}`, 200)
	for _, u := range users {
		c.mustJSON(t, "POST", "/v1/workspaces/"+ws+"/members", `{"user_id":"`+u+`"}`, 200)
	}
}
