package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// jsonOptions make the same JSON as the REST API: proto field names and every
// field present, so scripts can rely on the keys.
var jsonOptions = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// view is what a command prints: msg for -o json and -o yaml, table for
// people, names for -o name (one identifier a line).
type view struct {
	msg   proto.Message
	table func(t *table)
	names []string
}

// show prints v in the format --output asks for.
func (a *app) show(v view) error {
	switch a.opts.output {
	case "json", "yaml":
		return a.printMessage(v.msg)
	case "name":
		for _, n := range v.names {
			fmt.Fprintln(a.env.Stdout, n)
		}
		return nil
	default:
		t := newTable(a.env.Now())
		if v.table != nil {
			v.table(t)
		}
		return t.write(a.env.Stdout)
	}
}

// printMessage prints msg as proto JSON or as the YAML of that JSON.
func (a *app) printMessage(msg proto.Message) error {
	js, err := jsonOptions.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode %s: %w", msg.ProtoReflect().Descriptor().Name(), err)
	}
	if a.opts.output == "yaml" {
		y, err := jsonToYAML(js)
		if err != nil {
			return err
		}
		_, err = a.env.Stdout.Write(y)
		return err
	}
	// protojson adds random spaces to discourage byte comparisons; a
	// stable form is friendlier to diff and grep.
	var compact, buf bytes.Buffer
	if err := json.Compact(&compact, js); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if err := json.Indent(&buf, compact.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err = a.env.Stdout.Write(buf.Bytes())
	return err
}

// jsonToYAML converts JSON to block-style YAML, keeping the key order.
func jsonToYAML(js []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return nil, fmt.Errorf("convert to YAML: %w", err)
	}
	blockStyle(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("convert to YAML: %w", err)
	}
	return buf.Bytes(), enc.Close()
}

// blockStyle drops the flow style the JSON input gave every node, except for
// empty collections, which read best as {} and [].
func blockStyle(n *yaml.Node) {
	if len(n.Content) > 0 {
		n.Style &^= yaml.FlowStyle
	}
	if n.Kind == yaml.ScalarNode && n.Style&yaml.DoubleQuotedStyle != 0 && !strings.ContainsAny(n.Value, "\n") {
		// Let the encoder quote only where YAML needs it.
		n.Style &^= yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// done reports a change whose answer has nothing to show: a sentence for
// people, the (empty) response for json and yaml, the name for -o name.
func (a *app) done(msg proto.Message, sentence, name string) error {
	return a.show(view{msg: msg, names: []string{name}, table: func(t *table) { t.rows = append(t.rows, []string{sentence}) }})
}
