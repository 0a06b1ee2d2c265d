package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"tokenauthority/server/rest"
)

// httpRule matches a method and path line of the gateway's http.yaml.
var httpRule = regexp.MustCompile(`(?m)^\s*(get|put|post|delete|patch):\s*"([^"]+)"`)

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	rules, err := os.ReadFile("../../proto/tokenauthority/v1/http.yaml")
	if err != nil {
		t.Fatalf("reading http.yaml: %v", err)
	}
	matches := httpRule.FindAllStringSubmatch(string(rules), -1)
	if len(matches) == 0 {
		t.Fatal("http.yaml has no rules")
	}

	srv := newServer(t, rest.Config{})
	resp := do(t, srv, http.MethodGet, "/openapi.json", "", nil)
	if resp.status != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.status)
	}
	if got, want := resp.header.Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if !bytes.Equal(resp.body, rest.OpenAPI()) {
		t.Error("/openapi.json differs from OpenAPI()")
	}

	var doc struct {
		Swagger string                                `json:"swagger"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger = %q, want 2.0", doc.Swagger)
	}
	for _, m := range matches {
		method, path := m[1], m[2]
		t.Run(strings.ToUpper(method)+" "+path, func(t *testing.T) {
			t.Parallel()
			if _, ok := doc.Paths[path][method]; !ok {
				t.Errorf("OpenAPI document lacks %s %s", method, path)
			}
		})
	}
}

func TestOpenAPIReturnsCopy(t *testing.T) {
	t.Parallel()
	a := rest.OpenAPI()
	a[0] = 'X'
	if b := rest.OpenAPI(); b[0] == 'X' {
		t.Error("changing the result of OpenAPI() changed the embedded document")
	}
}
