package authz

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestCheckResponseFields holds appendCheckResponse's field numbers to the
// generated descriptors, and makes sure that every field of the messages
// it walks is either written or refused: a field added by a newer Envoy
// API would otherwise be dropped silently.
func TestCheckResponseFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg     proto.Message
		written map[string]protowire.Number
		refused []string
	}{
		{&authv3.CheckResponse{}, map[string]protowire.Number{"status": fRespStatus, "denied_response": fRespDenied, "ok_response": fRespOK, "error_response": fRespError},
			[]string{"dynamic_metadata"}},
		{&status.Status{}, map[string]protowire.Number{"code": fStatusCode, "message": fStatusMessage}, []string{"details"}},
		{&authv3.OkHttpResponse{}, map[string]protowire.Number{"headers": fOKHeaders, "headers_to_remove": fOKHeadersToRemove,
			"response_headers_to_add": fOKResponseHeadersToAdd, "query_parameters_to_remove": fOKQueryToRemove},
			[]string{"dynamic_metadata", "query_parameters_to_set"}},
		{&authv3.DeniedHttpResponse{}, map[string]protowire.Number{"status": fDeniedStatus, "headers": fDeniedHeaders, "body": fDeniedBody}, nil},
		{&typev3.HttpStatus{}, map[string]protowire.Number{"code": fHTTPStatusCode}, nil},
		{&corev3.HeaderValueOption{}, map[string]protowire.Number{"header": fOptionHeader, "append": fOptionAppend,
			"append_action": fOptionAppendAction, "keep_empty_value": fOptionKeepEmpty}, nil},
		{&corev3.HeaderValue{}, map[string]protowire.Number{"key": fHeaderValueKey, "value": fHeaderValueValue, "raw_value": fHeaderValueRawValue}, nil},
		{&wrapperspb.BoolValue{}, map[string]protowire.Number{"value": fBoolValue}, nil},
	}
	for _, tt := range tests {
		fields := tt.msg.ProtoReflect().Descriptor().Fields()
		var known []string
		for i := range fields.Len() {
			f := fields.Get(i)
			name := string(f.Name())
			known = append(known, name)
			num, ok := tt.written[name]
			switch {
			case ok && f.Number() != num:
				t.Errorf("%T.%s = field %d, appendCheckResponse writes %d", tt.msg, name, f.Number(), num)
			case !ok && !slices.Contains(tt.refused, name):
				t.Errorf("%T.%s (field %d) is neither written nor refused by appendCheckResponse", tt.msg, name, f.Number())
			}
		}
		for name := range tt.written {
			if !slices.Contains(known, name) {
				t.Errorf("%T has no field %s", tt.msg, name)
			}
		}
	}
}

// TestAppendCheckResponse encodes responses with appendCheckResponse and
// the codec, and compares both with proto.Marshal: the same bytes, or a
// refusal and the codec's fall-back to proto.Marshal (with its error, for
// strings that are not UTF-8).
func TestAppendCheckResponse(t *testing.T) {
	t.Parallel()
	opt := func(k, v string) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
	}
	ok := func(o *authv3.OkHttpResponse) *authv3.CheckResponse {
		return &authv3.CheckResponse{Status: &status.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: o}}
	}
	denied := func(d *authv3.DeniedHttpResponse) *authv3.CheckResponse {
		return &authv3.CheckResponse{Status: &status.Status{Code: 16, Message: "no token"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: d}}
	}
	withUnknown := func(m proto.Message) proto.Message {
		m.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
		return m
	}
	long := strings.Repeat("x", 200)
	longer := strings.Repeat("y", 20000)
	tests := []struct {
		name    string
		resp    *authv3.CheckResponse
		refused bool
	}{
		{name: "empty", resp: &authv3.CheckResponse{}},
		{name: "allowed, identity headers", resp: ok(&authv3.OkHttpResponse{
			Headers:         []*corev3.HeaderValueOption{opt("x-workspace-id", "acme"), opt("x-token-id", "01jd2x3y4z5a6b7c8d9e0f1g2h"), opt("x-user-id", "ann")},
			HeadersToRemove: []string{"token", "authorization"},
		})},
		{name: "allowed, anonymous", resp: ok(&authv3.OkHttpResponse{HeadersToRemove: []string{"token", "authorization", "x-workspace-id", "x-token-id", "x-user-id"}})},
		{name: "allowed, empty ok_response", resp: ok(&authv3.OkHttpResponse{})},
		{name: "denied", resp: denied(&authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode_Unauthorized},
			Headers: []*corev3.HeaderValueOption{opt("content-type", "application/json"), opt("www-authenticate", `Bearer realm="tokenauthority"`)},
			Body:    `{"detail":"no token","reason":"REASON_TOKEN_MISSING"}`,
		})},
		{name: "denied, empty", resp: denied(&authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{}})},
		{name: "error response", resp: &authv3.CheckResponse{HttpResponse: &authv3.CheckResponse_ErrorResponse{ErrorResponse: &authv3.DeniedHttpResponse{Body: "down"}}}},
		{name: "every option field, raw value, empty strings in lists", resp: ok(&authv3.OkHttpResponse{
			Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "k", RawValue: []byte{0xff, 0}}, Append: wrapperspb.Bool(true), KeepEmptyValue: true},
				{Header: &corev3.HeaderValue{}, Append: wrapperspb.Bool(false)}, {}},
			HeadersToRemove:         []string{"", "a"},
			ResponseHeadersToAdd:    []*corev3.HeaderValueOption{opt("set-cookie", "a=b")},
			QueryParametersToRemove: []string{"q", ""},
		})},
		{name: "negative codes", resp: &authv3.CheckResponse{Status: &status.Status{Code: -1}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: -5}, Headers: []*corev3.HeaderValueOption{{AppendAction: -2}}}}}},
		{name: "messages of 128 bytes and more", resp: ok(&authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{opt("x-long", long), opt("x-longer", longer)}})},
		{name: "message of exactly 127 bytes", resp: denied(&authv3.DeniedHttpResponse{Body: strings.Repeat("z", 124)})},
		{name: "unknown fields everywhere", resp: withUnknown(&authv3.CheckResponse{
			Status: withUnknown(&status.Status{Code: 7}).(*status.Status),
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: withUnknown(&authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{
				withUnknown(&corev3.HeaderValueOption{Header: withUnknown(&corev3.HeaderValue{Key: "k"}).(*corev3.HeaderValue), Append: withUnknown(wrapperspb.Bool(true)).(*wrapperspb.BoolValue)}).(*corev3.HeaderValueOption),
			}}).(*authv3.OkHttpResponse)},
		}).(*authv3.CheckResponse)},
		{name: "unknown fields in a denial", resp: denied(withUnknown(&authv3.DeniedHttpResponse{Status: withUnknown(&typev3.HttpStatus{Code: 403}).(*typev3.HttpStatus)}).(*authv3.DeniedHttpResponse))},

		{name: "dynamic metadata", resp: &authv3.CheckResponse{DynamicMetadata: &structpb.Struct{}}, refused: true},
		{name: "status details", resp: &authv3.CheckResponse{Status: &status.Status{Details: []*anypb.Any{{}}}}, refused: true},
		{name: "ok_response dynamic metadata", resp: ok(&authv3.OkHttpResponse{DynamicMetadata: &structpb.Struct{}}), refused: true},
		{name: "query parameters to set", resp: ok(&authv3.OkHttpResponse{QueryParametersToSet: []*corev3.QueryParameter{{Key: "a"}}}), refused: true},
		{name: "nil ok_response", resp: ok(nil), refused: true},
		{name: "nil denied_response", resp: denied(nil), refused: true},
		{name: "nil header option", resp: ok(&authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{opt("a", "b"), nil}}), refused: true},
		{name: "invalid UTF-8 header value", resp: ok(&authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{opt("a", "\xff")}}), refused: true},
		{name: "invalid UTF-8 header name", resp: ok(&authv3.OkHttpResponse{Headers: []*corev3.HeaderValueOption{opt("\xc3", "b")}}), refused: true},
		{name: "invalid UTF-8 header to remove", resp: ok(&authv3.OkHttpResponse{HeadersToRemove: []string{"\xff"}}), refused: true},
		{name: "invalid UTF-8 status message", resp: &authv3.CheckResponse{Status: &status.Status{Message: "\xff"}}, refused: true},
		{name: "invalid UTF-8 body", resp: denied(&authv3.DeniedHttpResponse{Body: "\xff"}), refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, wantErr := proto.Marshal(tt.resp)
			got, ok := appendCheckResponse(nil, tt.resp)
			if ok == tt.refused {
				t.Fatalf("appendCheckResponse wrote it: %v, want %v", ok, !tt.refused)
			}
			if ok && (wantErr != nil || !bytes.Equal(got, want)) {
				t.Errorf("appendCheckResponse = %x\nproto.Marshal = %x, %v", got, want, wantErr)
			}
			compareCodec(t, tt.resp)
		})
	}
}

// compareCodec checks that the codec encodes r as proto.Marshal does, or
// fails as it does.
func compareCodec(t *testing.T, r *authv3.CheckResponse) {
	t.Helper()
	want, wantErr := proto.Marshal(r)
	data, err := EnvoyCodec(nil).Marshal(r)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("codec.Marshal error %v, proto.Marshal error %v", err, wantErr)
	}
	if err != nil {
		return
	}
	got := data.Materialize()
	data.Free()
	if !bytes.Equal(got, want) {
		t.Fatalf("codec.Marshal = %x\nproto.Marshal = %x", got, want)
	}
	back := &authv3.CheckResponse{}
	if err := proto.Unmarshal(got, back); err != nil {
		t.Fatalf("the encoding does not decode: %v", err)
	}
	if !proto.Equal(back, r) {
		t.Fatalf("decoded %v, encoded %v", back, r)
	}
}

// FuzzEncodeCheckResponse encodes every CheckResponse that the fuzzed
// bytes decode to, so arbitrary ones (unknown fields, every oneof case,
// long and empty values) with appendCheckResponse, the codec and
// proto.Marshal: the bytes must be the same.
func FuzzEncodeCheckResponse(f *testing.F) {
	seeds := []*authv3.CheckResponse{
		{Status: &status.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers:         []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-workspace-id", Value: "acme"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}},
			HeadersToRemove: []string{"token", "authorization"}}}},
		{Status: &status.Status{Code: 7, Message: "denied"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: 403}, Headers: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "content-type", RawValue: []byte("json")}, Append: wrapperspb.Bool(true)}}, Body: "{}"}}},
		{HttpResponse: &authv3.CheckResponse_ErrorResponse{ErrorResponse: &authv3.DeniedHttpResponse{Body: strings.Repeat("b", 300)}}},
		{DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewBoolValue(true)}}},
	}
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x1a, 0x03, 0xc8, 0x06, 0x01}) // ok_response with an unknown field
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &authv3.CheckResponse{}
		if err := proto.Unmarshal(data, r); err != nil {
			return
		}
		want, err := proto.Marshal(r)
		if err != nil {
			t.Fatalf("proto.Marshal of a decoded response: %v", err)
		}
		if got, ok := appendCheckResponse([]byte("prefix"), r); ok && !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("appendCheckResponse = %x\nproto.Marshal = %x", got[len("prefix"):], want)
		}
		compareCodec(t, r)
	})
}
