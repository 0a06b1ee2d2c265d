package authz

import (
	"unicode/utf8"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of the messages appendCheckResponse writes;
// TestCheckResponseFields holds them to the generated descriptors, and
// checks that every field of these messages is either written here or
// refused.
const (
	fRespStatus             = 1 // CheckResponse.status
	fRespDenied             = 2 // CheckResponse.denied_response
	fRespOK                 = 3 // CheckResponse.ok_response
	fRespError              = 5 // CheckResponse.error_response
	fStatusCode             = 1 // google.rpc.Status.code
	fStatusMessage          = 2 // google.rpc.Status.message
	fOKHeaders              = 2 // OkHttpResponse.headers
	fOKHeadersToRemove      = 5 // OkHttpResponse.headers_to_remove
	fOKResponseHeadersToAdd = 6 // OkHttpResponse.response_headers_to_add
	fOKQueryToRemove        = 8 // OkHttpResponse.query_parameters_to_remove
	fDeniedStatus           = 1 // DeniedHttpResponse.status
	fDeniedHeaders          = 2 // DeniedHttpResponse.headers
	fDeniedBody             = 3 // DeniedHttpResponse.body
	fHTTPStatusCode         = 1 // HttpStatus.code
	fOptionHeader           = 1 // HeaderValueOption.header
	fOptionAppend           = 2 // HeaderValueOption.append
	fOptionAppendAction     = 3 // HeaderValueOption.append_action
	fOptionKeepEmpty        = 4 // HeaderValueOption.keep_empty_value
	fBoolValue              = 1 // google.protobuf.BoolValue.value
)

// appendCheckResponse appends r's protobuf encoding to b, byte for byte
// what proto.Marshal writes (fields in number order, each message's
// unknown fields after its known ones). The gateway answers every Check
// with one, and proto.Marshal's generic walk over its nested messages cost
// about twice as much as the whole encoding of a ValidateToken response.
//
// It reports false, and the bytes it returns are then to be thrown away,
// when r holds something it does not write: dynamic metadata, status
// details, query parameters to set, a nil message in a list or in the
// oneof, or a string that is not UTF-8 (which proto.Marshal refuses). The
// gateway sets none of them; the caller then uses proto.Marshal.
func appendCheckResponse(b []byte, r *authv3.CheckResponse) ([]byte, bool) {
	if r.DynamicMetadata != nil {
		return b, false
	}
	if s := r.Status; s != nil {
		if len(s.Details) > 0 || !utf8.ValidString(s.Message) {
			return b, false
		}
		var at int
		b, at = openMessage(b, fRespStatus)
		b = appendVarintField(b, fStatusCode, uint64(int64(s.Code)))
		b = appendStringField(b, fStatusMessage, s.Message)
		b = closeMessage(appendUnknown(b, s), at)
	}
	ok := true
	switch h := r.HttpResponse.(type) {
	case nil:
	case *authv3.CheckResponse_DeniedResponse:
		b, ok = appendDenied(b, fRespDenied, h.DeniedResponse)
	case *authv3.CheckResponse_OkResponse:
		b, ok = appendOK(b, h.OkResponse)
	case *authv3.CheckResponse_ErrorResponse:
		b, ok = appendDenied(b, fRespError, h.ErrorResponse)
	default:
		ok = false
	}
	return appendUnknown(b, r), ok
}

func appendOK(b []byte, o *authv3.OkHttpResponse) ([]byte, bool) {
	if o == nil || o.DynamicMetadata != nil || len(o.QueryParametersToSet) > 0 {
		return b, false
	}
	b, at := openMessage(b, fRespOK)
	b, ok := appendOptions(b, fOKHeaders, o.Headers)
	if !ok {
		return b, false
	}
	if b, ok = appendStrings(b, fOKHeadersToRemove, o.HeadersToRemove); !ok {
		return b, false
	}
	if b, ok = appendOptions(b, fOKResponseHeadersToAdd, o.ResponseHeadersToAdd); !ok {
		return b, false
	}
	if b, ok = appendStrings(b, fOKQueryToRemove, o.QueryParametersToRemove); !ok {
		return b, false
	}
	return closeMessage(appendUnknown(b, o), at), true
}

func appendDenied(b []byte, num protowire.Number, d *authv3.DeniedHttpResponse) ([]byte, bool) {
	if d == nil || !utf8.ValidString(d.Body) {
		return b, false
	}
	b, at := openMessage(b, num)
	if s := d.Status; s != nil {
		var sat int
		b, sat = openMessage(b, fDeniedStatus)
		b = appendVarintField(b, fHTTPStatusCode, uint64(int64(s.Code)))
		b = closeMessage(appendUnknown(b, s), sat)
	}
	b, ok := appendOptions(b, fDeniedHeaders, d.Headers)
	if !ok {
		return b, false
	}
	b = appendStringField(b, fDeniedBody, d.Body)
	return closeMessage(appendUnknown(b, d), at), true
}

func appendOptions(b []byte, num protowire.Number, opts []*corev3.HeaderValueOption) ([]byte, bool) {
	for _, o := range opts {
		if o == nil {
			return b, false
		}
		var at int
		b, at = openMessage(b, num)
		if h := o.Header; h != nil {
			if !utf8.ValidString(h.Key) || !utf8.ValidString(h.Value) {
				return b, false
			}
			var hat int
			b, hat = openMessage(b, fOptionHeader)
			b = appendStringField(b, fHeaderValueKey, h.Key)
			b = appendStringField(b, fHeaderValueValue, h.Value)
			if len(h.RawValue) > 0 {
				b = protowire.AppendBytes(protowire.AppendTag(b, fHeaderValueRawValue, protowire.BytesType), h.RawValue)
			}
			b = closeMessage(appendUnknown(b, h), hat)
		}
		if a := o.Append; a != nil {
			var aat int
			b, aat = openMessage(b, fOptionAppend)
			b = appendVarintField(b, fBoolValue, protowire.EncodeBool(a.Value))
			b = closeMessage(appendUnknown(b, a), aat)
		}
		b = appendVarintField(b, fOptionAppendAction, uint64(int64(o.AppendAction)))
		b = appendVarintField(b, fOptionKeepEmpty, protowire.EncodeBool(o.KeepEmptyValue))
		b = closeMessage(appendUnknown(b, o), at)
	}
	return b, true
}

// appendStrings appends a repeated string field (whose empty strings are
// written too).
func appendStrings(b []byte, num protowire.Number, ss []string) ([]byte, bool) {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return b, false
		}
		b = protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
	}
	return b, true
}

// appendVarintField appends a varint field unless it is zero (proto3
// writes no zero scalar).
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// appendStringField appends a string field unless it is empty.
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

func appendUnknown(b []byte, m proto.Message) []byte {
	return append(b, m.ProtoReflect().GetUnknown()...)
}

// openMessage starts a message field: its tag, and one byte for its
// length, which closeMessage fills in once the message is written. at is
// where that byte is.
func openMessage(b []byte, num protowire.Number) (_ []byte, at int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return append(b, 0), len(b)
}

// closeMessage writes the length of the message that follows b[at]. One
// byte holds lengths under 128, all the gateway writes; a longer message
// is moved up to make room for its length's varint.
func closeMessage(b []byte, at int) []byte {
	n := len(b) - at - 1
	if n < 0x80 {
		b[at] = byte(n)
		return b
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	b = append(b, make([]byte, extra)...)
	copy(b[at+1+extra:], b[at+1:len(b)-extra])
	protowire.AppendVarint(b[at:at], uint64(n))
	return b
}
