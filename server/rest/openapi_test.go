package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"

	"tokenauthority/server/rest"
)

// httpRule matches a method and path line of the gateway's http.yaml.
var httpRule = regexp.MustCompile(`(?m)^\s*(get|put|post|delete|patch):\s*"([^"]+)"`)

// fieldParam matches an AIP-134 path variable such as {workspace.workspace_id},
// which the documents name by its last component.
var fieldParam = regexp.MustCompile(`\{[a-z_]+\.([a-z_]+)\}`)

// gatewayRoutes returns "METHOD path" of every rule of http.yaml, with the
// path as the documents spell it.
func gatewayRoutes(t *testing.T) [][2]string {
	t.Helper()
	rules, err := os.ReadFile("../../proto/tokenauthority/v1/http.yaml")
	if err != nil {
		t.Fatalf("reading http.yaml: %v", err)
	}
	var routes [][2]string
	for _, m := range httpRule.FindAllStringSubmatch(string(rules), -1) {
		routes = append(routes, [2]string{m[1], fieldParam.ReplaceAllString(m[2], "{$1}")})
	}
	if len(routes) == 0 {
		t.Fatal("http.yaml has no rules")
	}
	return routes
}

func TestDocumentsServed(t *testing.T) {
	t.Parallel()
	srv := newServer(t, rest.Config{})
	tests := []struct {
		path string
		want []byte
	}{
		{"/openapi.json", rest.OpenAPI()},
		{"/swagger.json", rest.Swagger()},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv, http.MethodGet, tt.path, "", nil)
			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.status)
			}
			if got, want := resp.header.Get("Content-Type"), "application/json"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			if !bytes.Equal(resp.body, tt.want) {
				t.Errorf("%s differs from the embedded document", tt.path)
			}
		})
	}
}

func TestOpenAPI3(t *testing.T) {
	t.Parallel()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rest.OpenAPI())
	if err != nil {
		t.Fatalf("loading /openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("/openapi.json is not valid OpenAPI 3: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}

	for _, r := range gatewayRoutes(t) {
		method, path := strings.ToUpper(r[0]), r[1]
		t.Run(method+" "+path, func(t *testing.T) {
			t.Parallel()
			item := doc.Paths.Find(path)
			if item == nil || item.GetOperation(method) == nil {
				t.Fatalf("the document lacks %s %s", method, path)
			}
			op := item.GetOperation(method)
			def := op.Responses.Default()
			if def == nil || def.Value == nil {
				t.Fatal("no default response")
			}
			if got := def.Value.Content.Get("application/json").Schema.Ref; got != "#/components/schemas/Error" {
				t.Errorf("default response schema = %q, want the Error body", got)
			}
			for code, resp := range op.Responses.Map() {
				if code == "default" || code < "400" {
					continue
				}
				if got := resp.Value.Content.Get("application/json").Schema.Ref; got != "#/components/schemas/Error" {
					t.Errorf("response %s schema = %q, want the Error body", code, got)
				}
			}
		})
	}

	t.Run("error body", func(t *testing.T) {
		t.Parallel()
		s := doc.Components.Schemas["Error"].Value
		for _, f := range []string{"code", "message", "detail", "details"} {
			if s.Properties[f] == nil || !slices.Contains(s.Required, f) {
				t.Errorf("Error lacks the required field %q", f)
			}
		}
	})
	t.Run("proto field names and int64 as strings", func(t *testing.T) {
		t.Parallel()
		token := doc.Components.Schemas["v1Token"].Value
		for _, f := range []string{"token_id", "workspace_id", "masked_key", "expire_time", "effective_expire_time"} {
			if token.Properties[f] == nil {
				t.Errorf("Token lacks %q", f)
			}
		}
		if token.Properties["tokenId"] != nil {
			t.Error("Token has the lowerCamelCase key tokenId")
		}
		if !token.Properties["expire_time"].Value.Nullable {
			t.Error("Token.expire_time is not nullable, but an unset Timestamp is sent as null")
		}
		events := doc.Components.Schemas["v1VerifyAuditLogResponse"].Value.Properties["events_checked"].Value
		if !events.Type.Is("string") || events.Format != "uint64" {
			t.Errorf("events_checked = %v %q; want a uint64 as a string, as protojson writes it", events.Type, events.Format)
		}
		if m := regexp.MustCompile(`"format": "u?int64",\s*"type": "integer"`).Find(rest.OpenAPI()); m != nil {
			t.Errorf("a 64-bit integer is typed as a JSON number: %s", m)
		}
	})
	t.Run("identical paths", func(t *testing.T) {
		t.Parallel()
		seen := map[string]string{}
		for path := range doc.Paths.Map() {
			shape := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "{}")
			if other, ok := seen[shape]; ok {
				t.Errorf("%s and %s are the same template", path, other)
			}
			seen[shape] = path
		}
	})
}

func TestSwagger(t *testing.T) {
	t.Parallel()
	var doc openapi2.T
	if err := json.Unmarshal(rest.Swagger(), &doc); err != nil {
		t.Fatalf("/swagger.json: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger = %q, want 2.0", doc.Swagger)
	}
	for _, r := range gatewayRoutes(t) {
		if item := doc.Paths[r[1]]; item == nil || item.GetOperation(strings.ToUpper(r[0])) == nil {
			t.Errorf("the Swagger document lacks %s %s", r[0], r[1])
		}
	}
	if doc.Definitions["Error"] == nil || doc.Definitions["rpcStatus"] != nil {
		t.Error("the Swagger document does not describe the real error body")
	}
}

// TestDocumentsHoldNoSecrets: the documents are public; no example may look
// like a token, a service credential or a seed.
func TestDocumentsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	secretLike := regexp.MustCompile(`tkas?_[0-9A-Za-z]{8,}|Bearer [0-9A-Za-z_]{8,}|"example"`)
	for name, doc := range map[string][]byte{"openapi": rest.OpenAPI(), "swagger": rest.Swagger()} {
		if m := secretLike.Find(doc); m != nil {
			t.Errorf("%s document holds %q", name, m)
		}
	}
}

func TestOpenAPIReturnsCopy(t *testing.T) {
	t.Parallel()
	for name, get := range map[string]func() []byte{"OpenAPI": rest.OpenAPI, "Swagger": rest.Swagger} {
		a := get()
		a[0] = 'X'
		if b := get(); b[0] == 'X' {
			t.Errorf("changing the result of %s() changed the embedded document", name)
		}
	}
}
