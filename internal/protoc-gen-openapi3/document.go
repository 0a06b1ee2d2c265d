package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/types/descriptorpb"
	"sigs.k8s.io/yaml"
)

// errorSchema names the body of every non-2xx response (server/rest's
// errorBody), which replaces protoc-gen-openapiv2's rpcStatus.
const (
	errorSchema = "Error"
	errorRef    = "#/definitions/" + errorSchema
	statusRef   = "#/definitions/rpcStatus"
)

// complete turns protoc-gen-openapiv2's document into the served Swagger
// 2.0 and OpenAPI 3 documents.
func complete(generated, plain []byte, files []*descriptorpb.FileDescriptorProto) (swagger, openapi []byte, err error) {
	doc := &openapi2.T{}
	if err := json.Unmarshal(generated, doc); err != nil {
		return nil, nil, fmt.Errorf("decode: %w", err)
	}
	if len(plain) > 0 {
		if err := mergePlain(doc, plain); err != nil {
			return nil, nil, err
		}
	}
	// A relative base path: the document describes whichever host serves
	// it, and OpenAPI 3 gets the server "/".
	doc.BasePath = "/"
	useErrorBody(doc)
	optionalBodies(doc)
	wkt, err := wellKnownFields(files)
	if err != nil {
		return nil, nil, err
	}
	markNullable(doc, wkt)
	if err := dropUnused(doc); err != nil {
		return nil, nil, err
	}

	v3, err := openapi2conv.ToV3(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	errorsAsJSON(v3)
	if err := v3.Validate(openapi3.NewLoader().Context); err != nil {
		return nil, nil, fmt.Errorf("the OpenAPI 3 document is not valid: %w", err)
	}
	if swagger, err = indent(doc); err != nil {
		return nil, nil, err
	}
	if openapi, err = indent(v3); err != nil {
		return nil, nil, err
	}
	return swagger, openapi, nil
}

// mergePlain adds the paths and definitions of a Swagger 2.0 fragment in
// YAML: the plain HTTP handlers served beside the gateway.
func mergePlain(doc *openapi2.T, fragment []byte) error {
	js, err := yaml.YAMLToJSON(fragment)
	if err != nil {
		return fmt.Errorf("plain_paths: %w", err)
	}
	var extra openapi2.T
	if err := json.Unmarshal(js, &extra); err != nil {
		return fmt.Errorf("plain_paths: %w", err)
	}
	for path, item := range extra.Paths {
		if _, ok := doc.Paths[path]; ok {
			return fmt.Errorf("plain_paths: %s is a gateway route too", path)
		}
		doc.Paths[path] = item
	}
	for name, def := range extra.Definitions {
		if _, ok := doc.Definitions[name]; ok {
			return fmt.Errorf("plain_paths: definition %s exists already", name)
		}
		doc.Definitions[name] = def
	}
	return nil
}

// useErrorBody gives every error response (the default and each 4xx or
// 5xx) the schema of the body server/rest writes: code, message, detail,
// details.
func useErrorBody(doc *openapi2.T) {
	delete(doc.Definitions, "rpcStatus")
	doc.Definitions[errorSchema] = &openapi2.SchemaRef{Value: &openapi2.Schema{
		Type:        &openapi3.Types{"object"},
		Description: "The body of every error response of the REST API.",
		Required:    []string{"code", "message", "detail", "details"},
		Properties: openapi2.Schemas{
			"code": {Value: &openapi2.Schema{
				Type: &openapi3.Types{"integer"}, Format: "int32",
				Description: "The gRPC status code (google.rpc.Code), such as 5 for NOT_FOUND.",
			}},
			"message": {Value: &openapi2.Schema{
				Type: &openapi3.Types{"string"}, Description: "The gRPC status message.",
			}},
			"detail": {Value: &openapi2.Schema{
				Type: &openapi3.Types{"string"}, Description: "A sentence for a person: what went wrong (what the hub SDK shows).",
			}},
			"details": {Value: &openapi2.Schema{
				Type:        &openapi3.Types{"array"},
				Items:       &openapi2.SchemaRef{Ref: "#/definitions/protobufAny"},
				Description: "The status details (such as google.rpc.RetryInfo), each with its \"@type\".",
			}},
		},
	}}
	for _, item := range doc.Paths {
		for _, op := range item.Operations() {
			if op.Responses == nil {
				continue
			}
			for code, resp := range op.Responses.Map() {
				if code != "default" && !strings.HasPrefix(code, "4") && !strings.HasPrefix(code, "5") {
					continue
				}
				if resp.Schema == nil || resp.Schema.Ref == statusRef || resp.Schema.Ref == "" && resp.Schema.Value != nil && resp.Schema.Value.Type == nil {
					resp.Schema = &openapi2.SchemaRef{Ref: errorRef}
				}
			}
		}
	}
}

// errorsAsJSON makes every error response JSON only: the server writes its
// error body as JSON whatever the operation produces on success (a backup's
// octet stream, say), which Swagger 2.0's one produces list per operation
// cannot say.
func errorsAsJSON(doc *openapi3.T) {
	ref := "#/components/schemas/" + errorSchema
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Responses == nil {
				continue
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for _, media := range resp.Value.Content {
					if media.Schema != nil && media.Schema.Ref == ref {
						resp.Value.Content = openapi3.Content{"application/json": media}
						break
					}
				}
			}
		}
	}
}

// refPattern finds the definitions a piece of a document refers to.
var refPattern = regexp.MustCompile(`"#/definitions/([^"]+)"`)

// dropUnused removes the definitions no operation reaches: the response
// messages of methods whose response_body picks one field, for instance.
func dropUnused(doc *openapi2.T) error {
	paths, err := json.Marshal(doc.Paths)
	if err != nil {
		return fmt.Errorf("encode paths: %w", err)
	}
	used := map[string]bool{}
	queue := []string{string(paths)}
	for len(queue) > 0 {
		text := queue[0]
		queue = queue[1:]
		for _, m := range refPattern.FindAllStringSubmatch(text, -1) {
			name := m[1]
			def, ok := doc.Definitions[name]
			if used[name] || !ok {
				continue
			}
			used[name] = true
			js, err := json.Marshal(def)
			if err != nil {
				return fmt.Errorf("encode %s: %w", name, err)
			}
			queue = append(queue, string(js))
		}
	}
	for name := range doc.Definitions {
		if !used[name] {
			delete(doc.Definitions, name)
		}
	}
	return nil
}

// optionalBodies marks every request body optional: the gateway reads an
// empty body as the empty message (POST .../tokens/{token_id}:reveal is
// usually sent without one), and protoc-gen-openapiv2 says "required".
func optionalBodies(doc *openapi2.T) {
	for _, item := range doc.Paths {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.In == "body" {
					p.Required = false
				}
			}
		}
	}
}

// indent encodes a document as indented JSON with a final newline.
func indent(doc any) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent: %w", err)
	}
	out.WriteByte('\n')
	// encoding/json escapes <, > and & for HTML; these documents are JSON
	// for programs and people ("Bearer <credential>"), never HTML.
	text := []byte(htmlUnescape.Replace(out.String()))
	if !json.Valid(text) {
		return nil, errors.New("unescaping <, > and & broke the JSON")
	}
	return text, nil
}

var htmlUnescape = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

// sortedKeys returns the keys of m in order, for deterministic walks.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
