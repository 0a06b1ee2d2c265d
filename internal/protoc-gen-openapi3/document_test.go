package main

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// file is a proto file of package p with one message of the given fields.
func file(p, msg string, fields ...*descriptorpb.FieldDescriptorProto) *descriptorpb.FileDescriptorProto {
	return &descriptorpb.FileDescriptorProto{
		Package:     proto.String(p),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String(msg), Field: fields}},
	}
}

func field(name string, typ descriptorpb.FieldDescriptorProto_Type, typeName string, label descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto {
	f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Type: typ.Enum(), Label: label.Enum()}
	if typeName != "" {
		f.TypeName = proto.String(typeName)
	}
	return f
}

const (
	optional = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	repeated = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	message  = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	str      = descriptorpb.FieldDescriptorProto_TYPE_STRING
)

func TestWellKnownFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   []*descriptorpb.FileDescriptorProto
		want    []string
		wantErr string
	}{
		{
			name: "singular well-known types only",
			files: []*descriptorpb.FileDescriptorProto{file("a.v1", "M",
				field("grace", message, ".google.protobuf.Duration", optional),
				field("times", message, ".google.protobuf.Timestamp", repeated),
				field("token", message, ".a.v1.Token", optional),
				field("name", str, "", optional),
			)},
			want: []string{"grace"},
		},
		{
			name: "a name that is a Duration and a string",
			files: []*descriptorpb.FileDescriptorProto{
				file("a.v1", "M", field("grace", message, ".google.protobuf.Duration", optional)),
				file("a.v1", "N", field("grace", str, "", optional)),
			},
			wantErr: `field "grace"`,
		},
		{
			name:  "google's own files are skipped",
			files: []*descriptorpb.FileDescriptorProto{file("google.protobuf", "Duration", field("seconds", descriptorpb.FieldDescriptorProto_TYPE_INT64, "", optional))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wellKnownFields(tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("got %v, want %q in it", got, w)
				}
			}
		})
	}
}

// TestComplete runs the whole completion on a small generated document.
func TestComplete(t *testing.T) {
	t.Parallel()
	generated := `{"swagger":"2.0","info":{"title":"t","version":"1"},"consumes":["application/json"],"produces":["application/json"],
	"paths":{"/v1/things/{id}:do":{"post":{"operationId":"Do",
	  "parameters":[{"name":"id","in":"path","required":true,"type":"string"},
	    {"name":"body","in":"body","required":true,"schema":{"type":"object","properties":{"grace":{"type":"string"}}}}],
	  "responses":{"200":{"description":"ok","schema":{"$ref":"#/definitions/v1Thing"}},
	    "404":{"description":"missing","schema":{}},
	    "default":{"description":"error","schema":{"$ref":"#/definitions/rpcStatus"}}}}}},
	"definitions":{
	  "v1Thing":{"type":"object","properties":{"inner":{"$ref":"#/definitions/v1Inner"},"when":{"type":"string","format":"date-time"},"n":{"type":"string","format":"int64"}}},
	  "v1Inner":{"type":"object","properties":{"x":{"type":"string"}}},
	  "v1Unused":{"type":"object"},
	  "rpcStatus":{"type":"object"},
	  "protobufAny":{"type":"object","properties":{"@type":{"type":"string"}},"additionalProperties":{}}}}`
	plain := []byte("paths:\n  /healthz:\n    get:\n      responses:\n        \"200\": {description: ok}\n" +
		"  /backup:\n    get:\n      produces: [application/octet-stream]\n      responses:\n" +
		"        \"200\": {description: file, schema: {type: file}}\n        default: {description: error}\n")
	files := []*descriptorpb.FileDescriptorProto{
		file("a.v1", "DoRequest", field("grace", message, ".google.protobuf.Duration", optional)),
		file("a.v1", "Thing", field("when", message, ".google.protobuf.Timestamp", optional), field("n", descriptorpb.FieldDescriptorProto_TYPE_INT64, "", optional)),
	}

	swagger, openapi, err := complete([]byte(generated), plain, files)
	if err != nil {
		t.Fatal(err)
	}
	var v3 struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			RequestBody struct {
				Required bool `json:"required"`
				Content  map[string]struct {
					Schema struct {
						Properties map[string]struct {
							Nullable bool `json:"nullable"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Nullable bool   `json:"nullable"`
					Type     string `json:"type"`
				} `json:"properties"`
				Required []string `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapi, &v3); err != nil {
		t.Fatal(err)
	}
	op := v3.Paths["/v1/things/{id}:do"]["post"]
	checks := []struct {
		what string
		ok   bool
	}{
		{"OpenAPI 3", strings.HasPrefix(v3.OpenAPI, "3.")},
		{"plain path merged", v3.Paths["/healthz"] != nil},
		{"default is the Error body", op.Responses["default"].Content["application/json"].Schema.Ref == "#/components/schemas/Error"},
		{"404 is the Error body", op.Responses["404"].Content["application/json"].Schema.Ref == "#/components/schemas/Error"},
		{"Error has detail", len(v3.Components.Schemas["Error"].Required) == 4},
		{"rpcStatus gone", v3.Components.Schemas["rpcStatus"].Properties == nil && !strings.Contains(string(openapi), "rpcStatus")},
		{"unused definition dropped", !strings.Contains(string(openapi), "v1Unused")},
		{"body optional", !op.RequestBody.Required},
		{"Duration in a body nullable", op.RequestBody.Content["application/json"].Schema.Properties["grace"].Nullable},
		{"message field nullable", v3.Components.Schemas["v1Thing"].Properties["inner"].Nullable},
		{"timestamp nullable", v3.Components.Schemas["v1Thing"].Properties["when"].Nullable},
		{"int64 stays a string, not nullable", v3.Components.Schemas["v1Thing"].Properties["n"].Type == "string" && !v3.Components.Schemas["v1Thing"].Properties["n"].Nullable},
		{"a file's error is JSON only", len(v3.Paths["/backup"]["get"].Responses["default"].Content) == 1 &&
			v3.Paths["/backup"]["get"].Responses["default"].Content["application/json"].Schema.Ref == "#/components/schemas/Error"},
		{"a file stays a file", v3.Paths["/backup"]["get"].Responses["200"].Content["application/octet-stream"].Schema.Ref == "" &&
			len(v3.Paths["/backup"]["get"].Responses["200"].Content) == 1},
		{"Swagger has the Error body", strings.Contains(string(swagger), `"#/definitions/Error"`)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: no\n%s", c.what, openapi)
		}
	}
}

func TestSplitOptions(t *testing.T) {
	t.Parallel()
	o := splitOptions("grpc_api_configuration=a.yaml,plain_paths=p.yaml,,allow_merge=true")
	if o.plainPaths != "p.yaml" || strings.Join(o.passOn, ",") != "grpc_api_configuration=a.yaml,allow_merge=true" {
		t.Errorf("splitOptions = %+v", o)
	}
}
