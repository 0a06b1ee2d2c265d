// Command protoc-gen-openapi3 is the buf plugin that writes the REST API's
// documents: it runs the pinned protoc-gen-openapiv2 on the same request,
// completes the Swagger 2.0 document it returns (the real error body on
// every operation, nullable message fields, the plain HTTP endpoints that
// live beside the gateway) and converts it to OpenAPI 3 with kin-openapi's
// openapi2conv. It emits <merge_file_name>.swagger.json and
// <merge_file_name>.openapi.json.
//
// Its own option is plain_paths=FILE (a Swagger 2.0 fragment of paths and
// definitions, relative to where buf runs); every other option goes to
// protoc-gen-openapiv2 unchanged.
//
// How it can hurt you: it runs "go tool protoc-gen-openapiv2" in the
// directory buf runs in, so it needs the main module there; and a proto
// field name that is a well-known type in one message and a scalar in
// another makes it fail rather than guess which is nullable.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	resp := run(os.Stdin)
	out, err := proto.Marshal(resp)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run answers one code generator request; errors go into the response,
// where protoc and buf show them.
func run(in io.Reader) *pluginpb.CodeGeneratorResponse {
	files, v2resp, err := generate(in)
	if err != nil {
		return &pluginpb.CodeGeneratorResponse{Error: proto.String(err.Error())}
	}
	// What protoc-gen-openapiv2 supports, this plugin does.
	return &pluginpb.CodeGeneratorResponse{
		File:              files,
		SupportedFeatures: v2resp.SupportedFeatures,
		MinimumEdition:    v2resp.MinimumEdition,
		MaximumEdition:    v2resp.MaximumEdition,
	}
}

func generate(in io.Reader) ([]*pluginpb.CodeGeneratorResponse_File, *pluginpb.CodeGeneratorResponse, error) {
	raw, err := io.ReadAll(in)
	if err != nil {
		return nil, nil, fmt.Errorf("read request: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(raw, req); err != nil {
		return nil, nil, fmt.Errorf("decode request: %w", err)
	}
	opts := splitOptions(req.GetParameter())
	req.Parameter = proto.String(strings.Join(opts.passOn, ","))

	v2resp, err := runOpenAPIv2(req)
	if err != nil {
		return nil, nil, err
	}
	var plain []byte
	if opts.plainPaths != "" {
		if plain, err = os.ReadFile(opts.plainPaths); err != nil {
			return nil, nil, fmt.Errorf("plain_paths: %w", err)
		}
	}
	var files []*pluginpb.CodeGeneratorResponse_File
	for _, f := range v2resp.GetFile() {
		name, ok := strings.CutSuffix(f.GetName(), ".swagger.json")
		if !ok {
			return nil, nil, fmt.Errorf("protoc-gen-openapiv2 wrote %s, not a .swagger.json", f.GetName())
		}
		swagger, openapi, err := complete([]byte(f.GetContent()), plain, req.GetProtoFile())
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.GetName(), err)
		}
		files = append(files,
			&pluginpb.CodeGeneratorResponse_File{Name: proto.String(name + ".swagger.json"), Content: proto.String(string(swagger))},
			&pluginpb.CodeGeneratorResponse_File{Name: proto.String(name + ".openapi.json"), Content: proto.String(string(openapi))},
		)
	}
	return files, v2resp, nil
}

// options are the plugin's parameters: its own, and those for
// protoc-gen-openapiv2.
type options struct {
	plainPaths string
	passOn     []string
}

func splitOptions(param string) options {
	var o options
	for p := range strings.SplitSeq(param, ",") {
		if v, ok := strings.CutPrefix(p, "plain_paths="); ok {
			o.plainPaths = v
			continue
		}
		if p != "" {
			o.passOn = append(o.passOn, p)
		}
	}
	return o
}

// runOpenAPIv2 runs the protoc-gen-openapiv2 pinned in go.mod on req.
func runOpenAPIv2(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	in, err := proto.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	cmd := exec.Command("go", "tool", "protoc-gen-openapiv2")
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("protoc-gen-openapiv2: %w: %s", err, stderr.String())
	}
	resp := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(stdout.Bytes(), resp); err != nil {
		return nil, fmt.Errorf("decode protoc-gen-openapiv2's response: %w", err)
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("protoc-gen-openapiv2: %s", resp.GetError())
	}
	return resp, nil
}
