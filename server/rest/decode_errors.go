package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Errors of the JSON decoder (protojson) and of the gateway's query
// parameter parser name the position ("(line 1:33)") and the parser's own
// functions ("strconv.ParseInt"). The error bodies say instead which field
// is wrong and what it needs; the decoders' texts go to the log only.

var (
	// protoPrefix is protojson's prefix: "proto:" and a space or, at random
	// per build, a non-breaking space.
	protoPrefix = regexp.MustCompile(`^proto:[\s\x{00a0}]*`)
	position    = regexp.MustCompile(`^(syntax error )?\(line \d+:\d+\):\s*`)
	wrongValue  = regexp.MustCompile(`^invalid value for (\w+) field (\w+): (.*)$`)
	unknownName = regexp.MustCompile(`^unknown field "(.*)"$`)
	duplicate   = regexp.MustCompile(`^duplicate field "(.*)"$`)
	unexpected  = regexp.MustCompile(`^unexpected token (.*)$`)
	// The gateway's query parameter errors: `parsing field "page_size":
	// strconv.ParseInt: parsing "abc": invalid syntax`.
	queryField = regexp.MustCompile(`^parsing (?:field|list) "([\w.]+)": (.*)$`)
)

// decodeDetail explains why the body could not be read as the request
// message md (nil when unknown): either it is not JSON at all, or it is
// JSON that does not fit, naming the field and what it needs.
func decodeDetail(md protoreflect.MessageDescriptor, err error) string {
	what := "this request"
	if md != nil {
		what = string(md.Name())
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Sprintf("The request body is not valid JSON: %s.", jsonSyntax(err))
	}
	msg := position.ReplaceAllString(protoPrefix.ReplaceAllString(err.Error(), ""), "")
	for _, wk := range wellKnownFormats {
		if m := wk.value.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("The request body is not valid JSON for %s: %s is not %s; send %s.", what, m[1], wk.want, wk.example)
		}
	}
	var reason string
	switch m := (&matcher{s: msg}); {
	case m.match(wrongValue):
		field := protoFieldName(md, m.sub[2])
		if m.sub[1] == "enum" {
			reason = fmt.Sprintf("field %s takes one of%s, not %s", field, enumValues(md, m.sub[2]), valueKind(m.sub[3]))
		} else {
			reason = fmt.Sprintf("field %s must be a %s, not %s", field, kindWord(m.sub[1]), valueKind(m.sub[3]))
		}
	case m.match(unknownName):
		reason = fmt.Sprintf("unknown field %q", m.sub[1])
	case m.match(duplicate):
		reason = fmt.Sprintf("field %q is given twice", m.sub[1])
	case m.match(unexpected):
		reason = fmt.Sprintf("found %s where a field takes another kind of value (a list, an object or a single value)", valueKind(m.sub[1]))
	case strings.Contains(msg, "EOF"):
		reason = "the body ends in the middle of a value (a string with a broken escape, or cut short)"
	default:
		reason = "it does not match the message's fields and their types"
	}
	return fmt.Sprintf("The request body is not valid JSON for %s: %s.", what, reason)
}

// jsonSyntax words a JSON syntax error without its offsets.
func jsonSyntax(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it ends before the JSON does"
	}
	return err.Error() // "invalid character 'w' looking for beginning of value"
}

type matcher struct {
	s   string
	sub []string
}

func (m *matcher) match(re *regexp.Regexp) bool {
	m.sub = re.FindStringSubmatch(m.s)
	return m.sub != nil
}

// protoFieldName is the API's (proto) name of the field protojson names by
// its JSON name.
func protoFieldName(md protoreflect.MessageDescriptor, jsonName string) string {
	if md != nil {
		if fd := md.Fields().ByJSONName(jsonName); fd != nil {
			return string(fd.Name())
		}
	}
	return jsonName
}

// valueKind names the kind of a JSON value or token as the decoder quoted
// it, without repeating it: a string could be a secret in the wrong field.
func valueKind(tok string) string {
	switch {
	case strings.HasPrefix(tok, `"`):
		return "a string"
	case strings.HasPrefix(tok, "["):
		return "a list"
	case strings.HasPrefix(tok, "{"):
		return "an object"
	case strings.HasPrefix(tok, "]"), strings.HasPrefix(tok, "}"):
		return "the end of a list or object"
	case tok == "true" || tok == "false":
		return "a boolean"
	case tok == "null":
		return "null"
	case tok != "" && strings.ContainsAny(tok[:1], "-0123456789"):
		return "a number"
	}
	return "a value of another kind"
}

// enumValues lists the values of an enum field, as " A, B, C".
func enumValues(md protoreflect.MessageDescriptor, jsonName string) string {
	if md == nil {
		return ""
	}
	fd := md.Fields().ByJSONName(jsonName)
	if fd == nil || fd.Enum() == nil {
		return ""
	}
	vals := fd.Enum().Values()
	names := make([]string, 0, vals.Len())
	for i := range vals.Len() {
		if vals.Get(i).Number() != 0 {
			names = append(names, string(vals.Get(i).Name()))
		}
	}
	return " " + strings.Join(names, ", ")
}

// kindWord is what a value of a protobuf kind is called in the API.
func kindWord(kind string) string {
	switch kind {
	case "string", "bytes":
		return "string"
	case "bool":
		return "boolean (true or false)"
	case "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64":
		return "whole number"
	case "float", "double":
		return "number"
	}
	return kind
}

// queryParamDetail rewrites the gateway's error for a query parameter it
// could not parse; ok is false for any other message.
func queryParamDetail(msg string) (string, bool) {
	m := queryField.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	field, cause := m[1], m[2]
	var want string
	switch {
	case strings.Contains(cause, "ParseInt") || strings.Contains(cause, "ParseUint"):
		want = "a whole number"
		if strings.Contains(cause, "out of range") {
			want = "a whole number in range"
		}
	case strings.Contains(cause, "ParseBool"):
		want = "true or false"
	case strings.Contains(cause, "ParseFloat"):
		want = "a number"
	case strings.Contains(cause, "parsing time"):
		want = `an RFC 3339 time such as "2027-12-31T00:00:00Z"`
	case strings.Contains(cause, "is not a valid value"):
		want = "one of its documented values"
	default:
		return fmt.Sprintf("The query parameter %s has a value of the wrong form.", field), true
	}
	// The value itself is not repeated: it could be a secret in the
	// wrong parameter.
	return fmt.Sprintf("The query parameter %s must be %s.", field, want), true
}
