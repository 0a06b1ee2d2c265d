package server

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// codec is the server's message codec (Config.Codec, grpc-go's protobuf
// codec by default) made to report a message it cannot decode through
// failed (see decodeFailures), never as an error of Unmarshal, which
// grpc-go would answer with Internal.
type codec struct {
	proto  encoding.CodecV2
	failed *decodeFailures
}

func newCodec(base encoding.CodecV2) codec {
	if base == nil {
		base = encoding.GetCodecV2(protocodec.Name)
	}
	return codec{proto: base, failed: &decodeFailures{}}
}

func (c codec) Name() string { return c.proto.Name() }

func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.proto.Unmarshal(data, v)
	if err == nil || c.failed == nil {
		return err
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	// Nothing half-decoded reaches anyone.
	proto.Reset(m)
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	c.failed.put(v, decodeStatus(v, buf.ReadOnlyData(), err))
	return nil
}

// decodeFailures carries a request message's decode failure from the
// codec to the call's handler. grpc-go turns any error of a codec's
// Unmarshal into Internal ("grpc: error unmarshalling request"), so the
// codec reports success on a message it could not decode, leaves the
// message empty, and notes the InvalidArgument status here under the
// message; the unary interceptor and the stream wrapper, which receive
// that same message right after, take the status and answer it instead
// of calling the handler. Every message grpc-go decodes reaches one of
// them, so nothing stays in the table.
type decodeFailures struct {
	// n counts the entries, so that the common case (none) costs an
	// atomic load, not a map lookup.
	n atomic.Int64
	m sync.Map // message (pointer) -> error
}

func (f *decodeFailures) put(msg any, err error) {
	f.m.Store(msg, err)
	f.n.Add(1)
}

// take returns and forgets the decode failure of msg; nil when it was
// decoded.
func (f *decodeFailures) take(msg any) error {
	if f == nil || f.n.Load() == 0 {
		return nil
	}
	v, ok := f.m.LoadAndDelete(msg)
	if !ok {
		return nil
	}
	f.n.Add(-1)
	return v.(error)
}

// decodeStatus is the InvalidArgument status of a request message that
// could not be decoded from b: it names the message and, for a string that
// is not UTF-8, the field, and says what is wrong in words, never in the
// decoder's own terms.
func decodeStatus(msg any, b []byte, err error) error {
	var md protoreflect.MessageDescriptor
	name := "request"
	if m, ok := msg.(proto.Message); ok {
		md = m.ProtoReflect().Descriptor()
		name = string(md.FullName())
	}
	what := "its bytes are not valid protobuf wire format (a field is truncated or malformed)"
	// protobuf-go's error, and a message codec's of its own (authz's
	// Envoy codec), say so in these words.
	if strings.Contains(err.Error(), "invalid UTF-8") {
		what = "a string field holds invalid UTF-8"
		if md != nil {
			if field := invalidUTF8Field(md, b, 0); field != "" {
				what = fmt.Sprintf("string field %s holds invalid UTF-8", field)
			}
		}
	}
	return status.Errorf(codes.InvalidArgument, "the request message is not a valid %s: %s", name, what)
}

// maxFieldDepth bounds invalidUTF8Field's descent into nested messages.
const maxFieldDepth = 16

// invalidUTF8Field finds the first string field of a message md encoded
// in b whose value is not UTF-8, as a path of field names ("attributes.
// request.http.path"), or "" when it finds none. Map entries are searched
// as the messages they are encoded as (key, value).
func invalidUTF8Field(md protoreflect.MessageDescriptor, b []byte, depth int) string {
	if depth > maxFieldDepth {
		return ""
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		val := b[:m]
		b = b[m:]
		fd := md.Fields().ByNumber(num)
		if fd == nil || typ != protowire.BytesType {
			continue
		}
		v, _ := protowire.ConsumeBytes(val)
		switch {
		case fd.Kind() == protoreflect.StringKind:
			if !utf8.Valid(v) {
				return string(fd.Name())
			}
		case fd.Message() != nil:
			if sub := invalidUTF8Field(fd.Message(), v, depth+1); sub != "" {
				return string(fd.Name()) + "." + sub
			}
		}
	}
	return ""
}
