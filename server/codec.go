package server

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

// codec is grpc-go's protobuf codec, except for Envoy's ext_authz
// messages. The CheckRequest is decoded by decodeCheck: only the fields the
// gateway decision reads (the context extensions, and the HTTP request's
// method, path and token headers) are kept. Envoy sends every header of the
// client's request and the addresses of both ends; decoding all of that
// into maps and messages cost a fifth of the server's CPU per Check, more
// than the decision. The CheckResponse is encoded by appendCheckResponse,
// which writes the bytes proto.Marshal would.
type codec struct{ proto encoding.CodecV2 }

func newCodec() codec { return codec{proto: encoding.GetCodecV2(protocodec.Name)} }

func (c codec) Name() string { return c.proto.Name() }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*authv3.CheckResponse); ok {
		// The gateway's answers are 100 to 300 bytes.
		if b, ok := appendCheckResponse(make([]byte, 0, 256), r); ok {
			return mem.BufferSlice{mem.SliceBuffer(b)}, nil
		}
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*authv3.CheckRequest)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return decodeCheck(buf.ReadOnlyData(), req)
}

// checkHeaders are the request headers the gateway reads (authz.tokenFrom),
// by lower-case name.
var checkHeaders = [...]string{"token", "authorization"}

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
	errCheckUTF8 = errors.New("ext_authz CheckRequest: string field contains invalid UTF-8")
)

// decodeCheck decodes the parts of an encoded CheckRequest that the
// gateway reads into req, as proto.Unmarshal would decode them (a message
// field given twice merges, a string given twice keeps the last, map
// entries accumulate, strings must be UTF-8): the context extensions, the
// HTTP request's method and path, and the headers named in checkHeaders
// (in any case), from the headers map or header_map. Of the other headers
// in the map only the first is kept, so that the map is empty exactly when
// Envoy sent none there (the gateway reads header_map only then).
// Everything else is skipped unread, and not checked for UTF-8.
func decodeCheck(b []byte, req *authv3.CheckRequest) error {
	c := &copied{buf: b}
	// The three nested messages in one allocation.
	var m *struct {
		attrs authv3.AttributeContext
		req   authv3.AttributeContext_Request
		http  authv3.AttributeContext_HttpRequest
	}
	return eachBytesField(b, func(num protowire.Number, v []byte) error {
		if num != fCheckAttributes {
			return nil
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
		return decodeAttributes(v, req.Attributes, &m.req, &m.http, c)
	})
}

// decodeAttributes decodes into a, taking newReq and newHTTP for the
// request and its HTTP attributes when a has none yet.
func decodeAttributes(b []byte, a *authv3.AttributeContext, newReq *authv3.AttributeContext_Request, newHTTP *authv3.AttributeContext_HttpRequest, c *copied) error {
	return eachBytesField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fAttrRequest:
			if a.Request == nil {
				a.Request = newReq
			}
			return eachBytesField(v, func(num protowire.Number, v []byte) error {
				if num != fRequestHTTP {
					return nil
				}
				if a.Request.Http == nil {
					a.Request.Http = newHTTP
				}
				return decodeHTTP(v, a.Request.Http, c)
			})
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
		return nil
	})
}

func decodeHTTP(b []byte, h *authv3.AttributeContext_HttpRequest, c *copied) error {
	return eachBytesField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fHTTPMethod:
			s, err := c.utf8String(v)
			h.Method = s
			return err
		case fHTTPPath:
			s, err := c.utf8String(v)
			h.Path = s
			return err
		case fHTTPHeaders:
			key, val, err := rawMapEntry(v)
			if err != nil {
				return err
			}
			if h.Headers != nil && !checkHeader(key) {
				return nil
			}
			k, err := c.utf8String(key)
			if err != nil {
				return err
			}
			s, err := c.utf8String(val)
			if err != nil {
				return err
			}
			if h.Headers == nil {
				h.Headers = make(map[string]string, 2)
			}
			h.Headers[k] = s
		case fHTTPHeaderMap:
			if h.HeaderMap == nil {
				h.HeaderMap = &corev3.HeaderMap{}
			}
			return eachBytesField(v, func(num protowire.Number, v []byte) error {
				if num != fHeaderMapHeaders {
					return nil
				}
				return decodeHeaderValue(v, h.HeaderMap, c)
			})
		}
		return nil
	})
}

// decodeHeaderValue appends the header_map entry encoded in b to m when it
// is one of checkHeaders.
func decodeHeaderValue(b []byte, m *corev3.HeaderMap, c *copied) error {
	var key, value, raw []byte
	err := eachBytesField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fHeaderValueKey:
			key = v
		case fHeaderValueValue:
			value = v
		case fHeaderValueRawValue:
			raw = v
		}
		return nil
	})
	if err != nil || !checkHeader(key) {
		return err
	}
	hv := &corev3.HeaderValue{}
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

// checkHeader reports whether name is one of checkHeaders, in any case.
func checkHeader(name []byte) bool {
	for _, h := range checkHeaders {
		if len(name) == len(h) && strings.EqualFold(unsafe.String(unsafe.SliceData(name), len(name)), h) {
			return true
		}
	}
	return false
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
	err = eachBytesField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fMapKey:
			key = v
		case fMapValue:
			val = v
		}
		return nil
	})
	return key, val, err
}

// copied hands out the strings of a request being decoded. grpc reuses
// the request buffer once it is decoded, so they must be copied: the
// first string copies the whole request once, and every string is a part
// of that copy (one allocation instead of one per string).
type copied struct {
	buf []byte
	own string
}

// utf8String returns b, a part of c.buf, as a string, refusing invalid
// UTF-8 as decoding does.
func (c *copied) utf8String(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", errCheckUTF8
	}
	if len(b) == 0 {
		return "", nil
	}
	if c.own == "" {
		c.own = string(c.buf)
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(c.buf))))
	return c.own[off : off+len(b)], nil
}

// eachBytesField calls f with every length-delimited field of the message
// encoded in b, in order, and skips the others (as unknown fields are by
// decoding: a field of the wrong wire type is not the field).
func eachBytesField(b []byte, f func(num protowire.Number, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errCheckWire
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return errCheckWire
			}
			b = b[m:]
			if err := f(num, v); err != nil {
				return err
			}
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return errCheckWire
		}
		b = b[m:]
	}
	return nil
}
