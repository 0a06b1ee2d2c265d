package server

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestOpenAPISecurityMatchesAccessTable: the OpenAPI document says which
// operations need a service credential; requiredAccess decides it. A public
// method must say so (security: []) and every other one must ask for the
// credential, or client generators send credentials where none belong, or
// none where they are needed.
func TestOpenAPISecurityMatchesAccessTable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("rest/openapi/tokenauthority.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Security []map[string][]string                  `json:"security"`
		Paths    map[string]map[string]*json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Security) == 0 {
		t.Fatal("the document has no default security requirement")
	}
	checked := 0
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			var op struct {
				OperationID string                 `json:"operationId"`
				Security    *[]map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(*rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			svc, name, ok := strings.Cut(op.OperationID, "_")
			if !ok {
				continue // a plain endpoint, not an RPC
			}
			checked++
			full := "/tokenauthority.v1." + svc + "/" + name
			t.Run(full, func(t *testing.T) {
				t.Parallel()
				open := op.Security != nil && len(*op.Security) == 0
				access := requiredAccess(full)
				switch {
				case access == refused:
					t.Errorf("%s %s is documented but requiredAccess refuses %s", method, path, full)
				case (access == public) != open:
					t.Errorf("%s %s: document says credential-free = %v, requiredAccess says %v", method, path, open, access)
				}
			})
		}
	}
	if checked < 20 {
		t.Errorf("only %d RPC operations in the document", checked)
	}
}
