package authz

import (
	"bytes"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestCheckCodecFields holds decodeCheck's field numbers to the generated
// descriptors.
func TestCheckCodecFields(t *testing.T) {
	t.Parallel()
	field := func(m proto.Message, name string) protowire.Number {
		f := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
		if f == nil {
			t.Fatalf("%T has no field %s", m, name)
		}
		return f.Number()
	}
	tests := []struct {
		msg  proto.Message
		name string
		want protowire.Number
	}{
		{&authv3.CheckRequest{}, "attributes", fCheckAttributes},
		{&authv3.AttributeContext{}, "request", fAttrRequest},
		{&authv3.AttributeContext{}, "context_extensions", fAttrContextExtensions},
		{&authv3.AttributeContext_Request{}, "http", fRequestHTTP},
		{&authv3.AttributeContext_HttpRequest{}, "method", fHTTPMethod},
		{&authv3.AttributeContext_HttpRequest{}, "headers", fHTTPHeaders},
		{&authv3.AttributeContext_HttpRequest{}, "path", fHTTPPath},
		{&authv3.AttributeContext_HttpRequest{}, "header_map", fHTTPHeaderMap},
		{&corev3.HeaderMap{}, "headers", fHeaderMapHeaders},
		{&corev3.HeaderValue{}, "key", fHeaderValueKey},
		{&corev3.HeaderValue{}, "value", fHeaderValueValue},
		{&corev3.HeaderValue{}, "raw_value", fHeaderValueRawValue},
	}
	for _, tt := range tests {
		if got := field(tt.msg, tt.name); got != tt.want {
			t.Errorf("%T.%s = field %d, decodeCheck reads %d", tt.msg, tt.name, got, tt.want)
		}
	}
}

// TestDecodeCheck decodes CheckRequests with decodeCheck and with
// proto.Unmarshal and compares everything the gateway reads: the context
// extensions, method, path and the token headers, and whether either
// decoding fails.
func TestDecodeCheck(t *testing.T) {
	t.Parallel()
	secret := "Bearer tka_0123456789"
	http := func(h *authv3.AttributeContext_HttpRequest) *authv3.CheckRequest {
		return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
			Source:  &authv3.AttributeContext_Peer{Address: &corev3.Address{}, Principal: "spiffe://x"},
			Request: &authv3.AttributeContext_Request{Http: h},
		}}
	}
	many := map[string]string{":path": "/zoo/v1/x", "user-agent": "u", "accept": "*/*", "x-request-id": "r", "authorization": secret, "token": "tka_t"}
	tests := []struct {
		name string
		enc  func() []byte
	}{
		{"empty", func() []byte { return nil }},
		{"headers map, every header", marshal(t, http(&authv3.AttributeContext_HttpRequest{Method: "POST", Path: "/zoo/v1/inference/a/b/c", Headers: many}))},
		{"headers map, no token header", marshal(t, http(&authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/p", Headers: map[string]string{"accept": "*/*"}}))},
		{"headers map, mixed case", marshal(t, http(&authv3.AttributeContext_HttpRequest{Path: "/p", Headers: map[string]string{"Authorization": secret, "X-A": "b"}}))},
		{"header_map", marshal(t, http(&authv3.AttributeContext_HttpRequest{Path: "/p", HeaderMap: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: "accept", Value: "*/*"}, {Key: "Authorization", RawValue: []byte(secret)}, {Key: "token", Value: "a"}, {Key: "TOKEN", Value: "b"},
		}}}))},
		{"headers map beside header_map", marshal(t, http(&authv3.AttributeContext_HttpRequest{Path: "/p", Headers: map[string]string{"accept": "*/*"},
			HeaderMap: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: "authorization", Value: secret}}}}))},
		{"context extensions", marshal(t, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{ContextExtensions: map[string]string{"zoo": "a/b", "operation": "download"}}})},
		{"attributes given twice merge", func() []byte {
			a := marshal(t, http(&authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/first", Headers: map[string]string{"token": "x"}}))()
			b := marshal(t, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
				Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Path: "/second", Headers: map[string]string{"authorization": secret}}},
			}})()
			return append(a, b...)
		}},
		{"invalid UTF-8 in the path", invalidUTF8(marshal(t, http(&authv3.AttributeContext_HttpRequest{Path: "/p~~"})))},
		{"invalid UTF-8 in the token", invalidUTF8(marshal(t, http(&authv3.AttributeContext_HttpRequest{Headers: map[string]string{"authorization": "Bearer ~~"}})))},
		{"truncated", func() []byte {
			b := marshal(t, http(&authv3.AttributeContext_HttpRequest{Method: "POST", Path: "/p", Headers: many}))()
			return b[:len(b)-3]
		}},
		{"a message field sent as a varint is unknown", func() []byte {
			return protowire.AppendVarint(protowire.AppendTag(nil, fCheckAttributes, protowire.VarintType), 7)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := tt.enc()
			var want authv3.CheckRequest
			wantErr := proto.Unmarshal(enc, &want)
			gotErr := compareCheck(t, enc)
			if (gotErr != nil) != (wantErr != nil) {
				t.Fatalf("decodeCheck error %v, proto.Unmarshal error %v", gotErr, wantErr)
			}
		})
	}
}

// FuzzDecodeCheck holds decodeCheck to proto.Unmarshal on any bytes: it
// never panics, it refuses only what proto.Unmarshal refuses too (it may
// accept more: the fields it skips are not decoded, so broken encodings or
// invalid UTF-8 inside them go unnoticed, as they do not matter), and what
// it decodes equals what proto.Unmarshal decodes.
func FuzzDecodeCheck(f *testing.F) {
	for _, m := range []*authv3.CheckRequest{
		{},
		{Attributes: &authv3.AttributeContext{ContextExtensions: map[string]string{"zoo": "a/b"}}},
		{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "GET", Path: "/zoo/v1/public/models/a/b/m", Headers: map[string]string{"authorization": "Bearer tka_x", "accept": "*/*"}}}}},
		{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Path: "/p", HeaderMap: &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: "Token", RawValue: []byte("tka_y")}}}}}}},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, enc []byte) {
		var want authv3.CheckRequest
		wantErr := proto.Unmarshal(enc, &want)
		if gotErr := compareCheck(t, enc); gotErr != nil && wantErr == nil {
			t.Fatalf("decodeCheck refused what proto.Unmarshal accepts: %v", gotErr)
		}
	})
}

// compareCheck decodes enc with decodeCheck and, when both it and
// proto.Unmarshal accept it, checks that it read what the gateway reads
// as proto.Unmarshal would. It returns decodeCheck's error.
func compareCheck(t *testing.T, enc []byte) error {
	t.Helper()
	var want, got authv3.CheckRequest
	wantErr := proto.Unmarshal(enc, &want)
	gotErr := decodeCheck(enc, &got)
	if wantErr != nil || gotErr != nil {
		return gotErr
	}
	wa, ga := want.GetAttributes(), got.GetAttributes()
	if !proto.Equal(&authv3.AttributeContext{ContextExtensions: wa.GetContextExtensions()}, &authv3.AttributeContext{ContextExtensions: ga.GetContextExtensions()}) {
		t.Errorf("context extensions = %v, want %v", ga.GetContextExtensions(), wa.GetContextExtensions())
	}
	wh, gh := wa.GetRequest().GetHttp(), ga.GetRequest().GetHttp()
	if gh.GetMethod() != wh.GetMethod() || gh.GetPath() != wh.GetPath() {
		t.Errorf("method, path = %q, %q; want %q, %q", gh.GetMethod(), gh.GetPath(), wh.GetMethod(), wh.GetPath())
	}
	if (len(gh.GetHeaders()) > 0) != (len(wh.GetHeaders()) > 0) {
		t.Errorf("headers map present = %v, want %v", len(gh.GetHeaders()) > 0, len(wh.GetHeaders()) > 0)
	}
	for _, name := range keptHeaders() {
		if casesIn(wh.GetHeaders(), name) > 1 {
			continue // which of two spellings wins is the map's order, either way
		}
		if g, w := headerOf(gh, name), headerOf(wh, name); g != w {
			t.Errorf("header %s = %q, want %q", name, g, w)
		}
	}
	return nil
}

// casesIn counts the keys of m that are name in some case.
func casesIn(m map[string]string, name string) int {
	n := 0
	for k := range m {
		if equalFoldASCII(k, name) {
			n++
		}
	}
	return n
}

// headerOf reads a header as the gateway does: the map when it has
// entries, else header_map, in any case, the last of header_map's.
func headerOf(h *authv3.AttributeContext_HttpRequest, name string) string {
	if m := h.GetHeaders(); len(m) > 0 {
		for k, v := range m {
			if equalFoldASCII(k, name) {
				return v
			}
		}
		return ""
	}
	var out string
	for _, hv := range h.GetHeaderMap().GetHeaders() {
		if equalFoldASCII(hv.GetKey(), name) {
			out = hv.GetValue()
			if out == "" {
				out = string(hv.GetRawValue())
			}
		}
	}
	return out
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// invalidUTF8 replaces "~~" in an encoding by a byte that is not UTF-8
// and a space (proto.Marshal refuses to encode invalid UTF-8 itself).
func invalidUTF8(enc func() []byte) func() []byte {
	return func() []byte { return bytes.Replace(enc(), []byte("~~"), []byte("\xff "), 1) }
}

func marshal(t *testing.T, m proto.Message) func() []byte {
	return func() []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}
