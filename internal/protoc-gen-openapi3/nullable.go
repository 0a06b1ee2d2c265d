package main

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The REST facade marshals with EmitUnpopulated, so an unset singular
// message field (a Token, a Timestamp, a Duration) is sent as JSON null.
// protoc-gen-openapiv2 does not say so; markNullable does, with
// "x-nullable", which openapi2conv turns into OpenAPI 3's "nullable".

// wellKnownFields returns the names of the singular fields of the given
// files whose type is a google.protobuf message. protoc-gen-openapiv2
// inlines those as plain strings (a Duration is {"type": "string"}), so
// only the field name tells them from a string field; a name used for both
// is an error.
func wellKnownFields(files []*descriptorpb.FileDescriptorProto) (map[string]bool, error) {
	wkt := map[string]bool{}
	scalar := map[string]string{}
	var visit func(prefix string, msgs []*descriptorpb.DescriptorProto)
	visit = func(prefix string, msgs []*descriptorpb.DescriptorProto) {
		for _, m := range msgs {
			name := prefix + "." + m.GetName()
			for _, f := range m.GetField() {
				switch {
				case f.GetLabel() == descriptorpb.FieldDescriptorProto_LABEL_REPEATED:
				case f.GetType() == descriptorpb.FieldDescriptorProto_TYPE_MESSAGE && strings.HasPrefix(f.GetTypeName(), ".google.protobuf."):
					wkt[f.GetName()] = true
				case f.GetType() != descriptorpb.FieldDescriptorProto_TYPE_MESSAGE:
					scalar[f.GetName()] = name
				}
			}
			visit(name, m.GetNestedType())
		}
	}
	for _, f := range files {
		if strings.HasPrefix(f.GetPackage(), "google.") {
			continue
		}
		visit(f.GetPackage(), f.GetMessageType())
	}
	for name := range wkt {
		if in, ok := scalar[name]; ok {
			return nil, fmt.Errorf("field %q is a well-known message type in one message and a scalar in %s: the documents could not say which is nullable", name, in)
		}
	}
	return wkt, nil
}

// markNullable marks every property of the documents' object schemas that
// holds a message as nullable: a reference to an object definition (wrapped
// in allOf, since OpenAPI ignores siblings of $ref) or a well-known type.
func markNullable(doc *openapi2.T, wkt map[string]bool) {
	objects := map[string]bool{}
	for name, def := range doc.Definitions {
		if v := def.Value; v != nil && (v.Type.Is("object") || len(v.Properties) > 0) {
			objects["#/definitions/"+name] = true
		}
	}
	m := nullableMarker{wkt: wkt, objects: objects}
	for _, name := range sortedKeys(doc.Definitions) {
		m.schema(doc.Definitions[name])
	}
	for _, path := range sortedKeys(doc.Paths) {
		for _, op := range doc.Paths[path].Operations() {
			for _, p := range op.Parameters {
				m.schema(p.Schema)
			}
			if op.Responses != nil {
				for _, r := range op.Responses.Map() {
					m.schema(r.Schema)
				}
			}
		}
	}
}

type nullableMarker struct {
	wkt     map[string]bool
	objects map[string]bool
}

// schema marks the properties of s and of the schemas inlined in it.
func (m nullableMarker) schema(s *openapi2.SchemaRef) {
	if s == nil || s.Ref != "" || s.Value == nil {
		return
	}
	m.schema(s.Value.Items)
	for _, name := range sortedKeys(s.Value.Properties) {
		p := s.Value.Properties[name]
		switch {
		case p.Ref != "" && m.objects[p.Ref]:
			s.Value.Properties[name] = &openapi2.SchemaRef{Value: &openapi2.Schema{
				Type:       &openapi3.Types{"object"},
				AllOf:      openapi2.SchemaRefs{{Ref: p.Ref}},
				Extensions: map[string]any{"x-nullable": true},
			}}
		case p.Ref == "" && p.Value != nil && m.wkt[name] && !p.Value.Type.Is("array"):
			if p.Value.Extensions == nil {
				p.Value.Extensions = map[string]any{}
			}
			p.Value.Extensions["x-nullable"] = true
		default:
			m.schema(p)
		}
	}
}
