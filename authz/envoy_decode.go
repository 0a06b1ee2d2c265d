package authz

import (
	"errors"
	"strings"
	"unicode/utf8"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// EnvoyCodec returns base (nil: grpc-go's protobuf codec) except for
// Envoy's ext_authz messages, for the gRPC server that Envoy's Check is
// registered on. The CheckRequest is decoded by decodeCheck: only the
// fields the gateway decision reads (the context extensions, and the HTTP
// request's method, path and keptHeaders) are kept. Envoy sends every
// header of the client's request and the addresses of both ends; decoding
// all of that into maps and messages cost a fifth of the server's CPU per
// Check, more than the decision. The CheckResponse is encoded by
// appendCheckResponse, which writes the bytes proto.Marshal would.
//
// A CheckRequest that cannot be decoded is an error of Unmarshal, as with
// any codec; the server wraps the codec to answer it with InvalidArgument.
func EnvoyCodec(base encoding.CodecV2) encoding.CodecV2 {
	if base == nil {
		base = encoding.GetCodecV2(protocodec.Name)
	}
	return envoyCodec{proto: base}
}

type envoyCodec struct{ proto encoding.CodecV2 }

func (c envoyCodec) Name() string { return c.proto.Name() }

func (c envoyCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*authv3.CheckResponse); ok {
		// The gateway's answers are 100 to 300 bytes.
		if b, ok := appendCheckResponse(make([]byte, 0, 256), r); ok {
			return mem.BufferSlice{mem.SliceBuffer(b)}, nil
		}
	}
	return c.proto.Marshal(v)
}

func (c envoyCodec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*authv3.CheckRequest)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return decodeCheck(buf.ReadOnlyData(), req)
}

// keptHeaders are the request headers decodeCheck keeps, by lower-case
// name: TokenHeaders, which the decision reads, and the W3C trace context
// that TracedCheck continues.
func keptHeaders() [4]string {
	t := TokenHeaders()
	return [...]string{t[0], t[1], "traceparent", "tracestate"}
}

// Field numbers of the messages decodeCheck reads; TestCheckCodecFields
// holds them to the generated descriptors.
const (
	fCheckAttributes       = 1  // CheckRequest.attributes
	fAttrRequest           = 4  // AttributeContext.request
	fAttrContextExtensions = 10 // AttributeContext.context_extensions
	fRequestHTTP           = 2  // AttributeContext.Request.http
	fHTTPMethod            = 2  // HttpRequest.method
	fHTTPHeaders           = 3  // HttpRequest.headers
	fHTTPPath              = 4  // HttpRequest.path
	fHTTPHeaderMap         = 13 // HttpRequest.header_map
	fHeaderMapHeaders      = 1  // HeaderMap.headers
	fHeaderValueKey        = 1  // HeaderValue.key
	fHeaderValueValue      = 2  // HeaderValue.value
	fHeaderValueRawValue   = 3  // HeaderValue.raw_value
	fMapKey                = 1  // map entry key
	fMapValue              = 2  // map entry value
)

var (
	errCheckWire = errors.New("ext_authz CheckRequest: broken protobuf encoding")
	// The server's codec recognizes a UTF-8 failure by "invalid UTF-8" in
	// the text, as protobuf-go's own.
	errCheckUTF8 = errors.New("ext_authz CheckRequest: string field contains invalid UTF-8")
)

// decodeCheck decodes the parts of an encoded CheckRequest that the
// gateway reads into req, as proto.Unmarshal would decode them (a message
// field given twice merges, a string given twice keeps the last, map
// entries accumulate, strings must be UTF-8): the context extensions, the
// HTTP request's method and path, and the headers named in keptHeaders
// (in any case), from the headers map or header_map. Of the other headers
// in the map only the first is kept, so that the map is empty exactly when
// Envoy sent none there (the gateway reads header_map only then).
// Everything else is skipped unread, and not checked for UTF-8.
//
// It runs on every Check, over requests of half a kilobyte and more, so
// it walks the bytes in plain loops (no callbacks) and copies out only the
// strings it keeps.
func decodeCheck(b []byte, req *authv3.CheckRequest) error {
	var c copied
	// The three nested messages in one allocation.
	var m *struct {
		attrs authv3.AttributeContext
		req   authv3.AttributeContext_Request
		http  authv3.AttributeContext_HttpRequest
	}
	for len(b) > 0 {
		num, v, n := nextField(b)
		if n < 0 {
			return errCheckWire
		}
		b = b[n:]
		if num != fCheckAttributes || v == nil {
			continue
		}
		if m == nil {
			m = &struct {
				attrs authv3.AttributeContext
				req   authv3.AttributeContext_Request
				http  authv3.AttributeContext_HttpRequest
			}{}
		}
		if req.Attributes == nil {
			req.Attributes = &m.attrs
		}
		if err := decodeAttributes(v, req.Attributes, &m.req, &m.http, &c); err != nil {
			return err
		}
	}
	return nil
}

// nextField reads the field at the start of b: its number, its bytes if
// it is length-delimited (nil otherwise), and its length in b, negative
// when b is broken. A field of another wire type is skipped as decoding
// skips unknown fields: a field of the wrong wire type is not the field.
func nextField(b []byte) (num protowire.Number, v []byte, n int) {
	num, typ, tn := protowire.ConsumeTag(b)
	if tn < 0 {
		return 0, nil, -1
	}
	if typ != protowire.BytesType {
		m := protowire.ConsumeFieldValue(num, typ, b[tn:])
		if m < 0 {
			return 0, nil, -1
		}
		return num, nil, tn + m
	}
	v, m := protowire.ConsumeBytes(b[tn:])
	if m < 0 {
		return 0, nil, -1
	}
	if v == nil {
		v = b[tn:tn] // present but empty: not nil
	}
	return num, v, tn + m
}

// decodeAttributes decodes into a, taking newReq and newHTTP for the
// request and its HTTP attributes when a has none yet.
func decodeAttributes(b []byte, a *authv3.AttributeContext, newReq *authv3.AttributeContext_Request, newHTTP *authv3.AttributeContext_HttpRequest, c *copied) error {
	for len(b) > 0 {
		num, v, n := nextField(b)
		if n < 0 {
			return errCheckWire
		}
		b = b[n:]
		if v == nil {
			continue
		}
		switch num {
		case fAttrRequest:
			if a.Request == nil {
				a.Request = newReq
			}
			for len(v) > 0 {
				num, hv, n := nextField(v)
				if n < 0 {
					return errCheckWire
				}
				v = v[n:]
				if num != fRequestHTTP || hv == nil {
					continue
				}
				if a.Request.Http == nil {
					a.Request.Http = newHTTP
				}
				if err := decodeHTTP(hv, a.Request.Http, c); err != nil {
					return err
				}
			}
		case fAttrContextExtensions:
			k, val, err := mapEntry(v, c)
			if err != nil {
				return err
			}
			if a.ContextExtensions == nil {
				a.ContextExtensions = map[string]string{}
			}
			a.ContextExtensions[k] = val
		}
	}
	return nil
}

func decodeHTTP(b []byte, h *authv3.AttributeContext_HttpRequest, c *copied) error {
	for len(b) > 0 {
		num, v, n := nextField(b)
		if n < 0 {
			return errCheckWire
		}
		b = b[n:]
		if v == nil {
			continue
		}
		var err error
		switch num {
		case fHTTPMethod:
			h.Method, err = c.utf8String(v)
		case fHTTPPath:
			h.Path, err = c.utf8String(v)
		case fHTTPHeaders:
			err = decodeHeader(v, h, c)
		case fHTTPHeaderMap:
			if h.HeaderMap == nil {
				h.HeaderMap = &corev3.HeaderMap{}
			}
			for len(v) > 0 {
				num, hv, n := nextField(v)
				if n < 0 {
					return errCheckWire
				}
				v = v[n:]
				if num == fHeaderMapHeaders && hv != nil {
					if err := decodeHeaderValue(hv, h.HeaderMap, c); err != nil {
						return err
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeHeader adds the headers map entry encoded in b to h.Headers when
// it is one of keptHeaders or the map's first entry.
func decodeHeader(b []byte, h *authv3.AttributeContext_HttpRequest, c *copied) error {
	key, val, err := rawMapEntry(b)
	if err != nil {
		return err
	}
	k := checkHeader(key)
	if h.Headers != nil && k == "" {
		return nil
	}
	if k == "" || k != string(key) {
		if k, err = c.utf8String(key); err != nil {
			return err
		}
	}
	s, err := c.utf8String(val)
	if err != nil {
		return err
	}
	if h.Headers == nil {
		h.Headers = make(map[string]string, 2)
	}
	h.Headers[k] = s
	return nil
}

// decodeHeaderValue appends the header_map entry encoded in b to m when it
// is one of keptHeaders.
func decodeHeaderValue(b []byte, m *corev3.HeaderMap, c *copied) error {
	var key, value, raw []byte
	for len(b) > 0 {
		num, v, n := nextField(b)
		if n < 0 {
			return errCheckWire
		}
		b = b[n:]
		if v == nil {
			continue
		}
		switch num {
		case fHeaderValueKey:
			key = v
		case fHeaderValueValue:
			value = v
		case fHeaderValueRawValue:
			raw = v
		}
	}
	if checkHeader(key) == "" {
		return nil
	}
	hv := &corev3.HeaderValue{}
	var err error
	if hv.Key, err = c.utf8String(key); err != nil {
		return err
	}
	if hv.Value, err = c.utf8String(value); err != nil {
		return err
	}
	if raw != nil {
		hv.RawValue = append([]byte{}, raw...)
	}
	m.Headers = append(m.Headers, hv)
	return nil
}

// checkHeader returns the entry of keptHeaders that name is, in any case,
// or "".
func checkHeader(name []byte) string {
	for _, h := range keptHeaders() {
		if len(name) == len(h) && strings.EqualFold(unsafe.String(unsafe.SliceData(name), len(name)), h) {
			return h
		}
	}
	return ""
}

// mapEntry decodes a map<string, string> entry.
func mapEntry(b []byte, c *copied) (string, string, error) {
	key, val, err := rawMapEntry(b)
	if err != nil {
		return "", "", err
	}
	k, err := c.utf8String(key)
	if err != nil {
		return "", "", err
	}
	v, err := c.utf8String(val)
	return k, v, err
}

// rawMapEntry returns the key and value bytes of a map entry (the last of
// each, as decoding does); either is empty when absent.
func rawMapEntry(b []byte) (key, val []byte, err error) {
	// Every encoder writes a key and then a value, with short lengths.
	if len(b) >= 2 && b[0] == byte(fMapKey<<3|protowire.BytesType) && b[1] < 0x80 && 2+int(b[1]) < len(b) {
		k, rest := b[2:2+b[1]], b[2+b[1]:]
		if len(rest) >= 2 && rest[0] == byte(fMapValue<<3|protowire.BytesType) && rest[1] < 0x80 && 2+int(rest[1]) == len(rest) {
			return k, rest[2:], nil
		}
	}
	for len(b) > 0 {
		num, v, n := nextField(b)
		if n < 0 {
			return nil, nil, errCheckWire
		}
		b = b[n:]
		switch {
		case v == nil:
		case num == fMapKey:
			key = v
		case num == fMapValue:
			val = v
		}
	}
	return key, val, nil
}

// copied hands out the strings of a request being decoded. grpc reuses
// the request buffer once it is decoded, so they must be copied: into
// shared blocks, so that the few strings a decision reads cost one
// allocation rather than one each.
type copied struct {
	// free is the unused end of the current block; the strings handed
	// out are in the part before it, which is never written again.
	free []byte
}

// copyBlock is the size of a block of strings: a method, a path and a
// token header fit.
const copyBlock = 256

// utf8String returns a copy of b as a string, refusing invalid UTF-8 as
// decoding does.
func (c *copied) utf8String(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errCheckUTF8
	}
	if len(b) == 0 {
		return "", nil
	}
	if len(b) > cap(c.free) {
		c.free = make([]byte, 0, max(len(b), copyBlock))
	}
	s := append(c.free, b...)
	c.free = s[len(s):]
	return unsafe.String(unsafe.SliceData(s), len(s)), nil
}
