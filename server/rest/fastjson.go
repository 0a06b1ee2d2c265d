package rest

import (
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The facade's JSON is protojson's with proto field names and unpopulated
// fields emitted. protojson gets there through generic machinery that costs
// more than the service's own work on the hot routes, so the marshaler
// first tries the two functions below, which cover what the API's messages
// use and give up (ok = false) on anything else, leaving it to protojson:
//
//   - appendMessage writes exactly what protojson writes, compacted, for
//     messages of strings, bools, enums, integers, nested messages and
//     google.protobuf.Timestamp, singular or repeated;
//   - decodeFlat reads a body that is one JSON object of string and bool
//     members naming distinct singular string, enum or bool fields, with no
//     escapes, which protojson would read to the same message.
//
// fastjson_test.go checks both against protojson for every message of the
// API.

const timestampName = "google.protobuf.Timestamp"

// Timestamp range protojson accepts: 0001-01-01 to 9999-12-31.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

// appendMessage appends m as JSON, or reports false when m holds a field
// kind it leaves to protojson.
func appendMessage(b []byte, m protoreflect.Message) ([]byte, bool) {
	if !m.IsValid() {
		return nil, false
	}
	fds := m.Descriptor().Fields()
	b = append(b, '{')
	first := true
	for i := range fds.Len() {
		fd := fds.Get(i)
		has := m.Has(fd)
		if !has && fd.ContainingOneof() != nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, fd.TextName()...)
		b = append(b, '"', ':')
		var ok bool
		switch {
		case fd.IsMap():
			return nil, false
		case fd.IsList():
			b, ok = appendList(b, fd, m.Get(fd).List())
		case !has && fd.HasPresence():
			b, ok = append(b, "null"...), true
		default:
			b, ok = appendValue(b, fd, m.Get(fd))
		}
		if !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

func appendList(b []byte, fd protoreflect.FieldDescriptor, l protoreflect.List) ([]byte, bool) {
	b = append(b, '[')
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendValue(b, fd, l.Get(i)); !ok {
			return nil, false
		}
	}
	return append(b, ']'), true
}

// appendValue appends one singular value of fd's kind.
func appendValue(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) ([]byte, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return appendString(b, v.String())
	case protoreflect.BoolKind:
		return strconv.AppendBool(b, v.Bool()), true
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return nil, false
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			b = append(b, '"')
			b = append(b, ev.Name()...)
			return append(b, '"'), true
		}
		return strconv.AppendInt(b, int64(v.Enum()), 10), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(b, v.Int(), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(b, v.Uint(), 10), true
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b = append(b, '"')
		b = strconv.AppendInt(b, v.Int(), 10)
		return append(b, '"'), true
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b = append(b, '"')
		b = strconv.AppendUint(b, v.Uint(), 10)
		return append(b, '"'), true
	case protoreflect.MessageKind:
		m := v.Message()
		switch name := m.Descriptor().FullName(); {
		case name == timestampName:
			return appendTimestamp(b, m)
		case name.Parent() == "google.protobuf":
			// Other well-known types have JSON forms of their own.
			return nil, false
		}
		return appendMessage(b, m)
	}
	// Floats (protojson's number formatting), bytes, groups.
	return nil, false
}

// appendString quotes s as protojson does: only '"', '\\' and control
// characters are escaped. Invalid UTF-8 is left to protojson's error.
func appendString(b []byte, s string) ([]byte, bool) {
	if !utf8.ValidString(s) {
		return nil, false
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= ' ' && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"'), true
}

// appendTimestamp writes RFC 3339 in UTC with 0, 3, 6 or 9 fractional
// digits, as protojson does; out-of-range values are left to its error.
func appendTimestamp(b []byte, m protoreflect.Message) ([]byte, bool) {
	fds := m.Descriptor().Fields()
	secs := m.Get(fds.ByNumber(1)).Int()
	nanos := m.Get(fds.ByNumber(2)).Int()
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > 999_999_999 {
		return nil, false
	}
	b = append(b, '"')
	b = time.Unix(secs, nanos).UTC().AppendFormat(b, "2006-01-02T15:04:05")
	switch {
	case nanos == 0:
	case nanos%1_000_000 == 0:
		b = appendFraction(b, nanos/1_000_000, 3)
	case nanos%1_000 == 0:
		b = appendFraction(b, nanos/1_000, 6)
	default:
		b = appendFraction(b, nanos, 9)
	}
	return append(b, 'Z', '"'), true
}

func appendFraction(b []byte, v int64, digits int) []byte {
	b = append(b, '.')
	var d [9]byte
	for i := digits - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:digits]...)
}

// decodeFlat sets m from data when data is a flat JSON object it can read
// exactly as protojson would, and reports whether it did; m is untouched
// when it did not.
func decodeFlat(data []byte, m proto.Message) bool {
	type member struct {
		fd protoreflect.FieldDescriptor
		v  protoreflect.Value
	}
	var members [8]member
	got := members[:0]
	fds := m.ProtoReflect().Descriptor().Fields()
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return false // an empty object: rare, left to protojson
	}
	for {
		key, next, ok := plainString(data, i)
		if !ok {
			return false
		}
		fd := fds.ByJSONName(string(key))
		if fd == nil {
			fd = fds.ByTextName(string(key))
		}
		if fd == nil || fd.Cardinality() == protoreflect.Repeated || fd.ContainingOneof() != nil {
			return false
		}
		for _, g := range got {
			if g.fd == fd {
				return false // protojson refuses a repeated member
			}
		}
		i = skipSpace(data, next)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		var v protoreflect.Value
		switch fd.Kind() {
		case protoreflect.StringKind, protoreflect.EnumKind:
			s, next, ok := plainString(data, i)
			if !ok || !utf8.Valid(s) {
				return false
			}
			if fd.Kind() == protoreflect.StringKind {
				v = protoreflect.ValueOfString(string(s))
			} else {
				ev := fd.Enum().Values().ByName(protoreflect.Name(s))
				if ev == nil {
					return false
				}
				v = protoreflect.ValueOfEnum(ev.Number())
			}
			i = next
		case protoreflect.BoolKind:
			switch {
			case hasPrefixAt(data, i, "true"):
				v, i = protoreflect.ValueOfBool(true), i+4
			case hasPrefixAt(data, i, "false"):
				v, i = protoreflect.ValueOfBool(false), i+5
			default:
				return false
			}
		default:
			return false
		}
		if len(got) == cap(got) {
			return false
		}
		got = append(got, member{fd, v})
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		if data[i] == '}' {
			if skipSpace(data, i+1) != len(data) {
				return false // trailing data: protojson's reader decides
			}
			break
		}
		if data[i] != ',' {
			return false
		}
		i = skipSpace(data, i+1)
	}
	r := m.ProtoReflect()
	proto.Reset(m)
	for _, g := range got {
		r.Set(g.fd, g.v)
	}
	return true
}

// plainString reads a JSON string without escapes or control characters
// starting at data[i], returning its contents and the index after it.
func plainString(data []byte, i int) ([]byte, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j], j + 1, true
		case c == '\\' || c < ' ':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasPrefixAt(data []byte, i int, s string) bool {
	return len(data)-i >= len(s) && string(data[i:i+len(s)]) == s
}
