package server_test

import (
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// rawCodec sends bytes as they are and keeps the answer's bytes, so that a
// test can put malformed protobuf on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// firstStringField is the number of the first string field of md.
func firstStringField(t *testing.T, md protoreflect.MessageDescriptor) protowire.Number {
	t.Helper()
	fields := md.Fields()
	for i := range fields.Len() {
		if fields.Get(i).Kind() == protoreflect.StringKind {
			return fields.Get(i).Number()
		}
	}
	t.Fatalf("%s has no string field", md.FullName())
	return 0
}

// checkWithPath is an ext_authz CheckRequest whose HTTP request path is p
// (attributes 1 > request 4 > http 2 > path 4).
func checkWithPath(p []byte) []byte {
	http := protowire.AppendTag(nil, 4, protowire.BytesType)
	http = protowire.AppendBytes(http, p)
	req := protowire.AppendTag(nil, 2, protowire.BytesType)
	req = protowire.AppendBytes(req, http)
	attrs := protowire.AppendTag(nil, 4, protowire.BytesType)
	attrs = protowire.AppendBytes(attrs, req)
	out := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(out, attrs)
}

// TestMalformedRequestIsInvalidArgument: a request message that is not
// valid protobuf (a string that is not UTF-8, a truncated varint or
// length), sent with no credential over a real connection, is answered
// InvalidArgument with a message that names the request and says what is
// wrong in words, and the server goes on answering well-formed calls.
func TestMalformedRequestIsInvalidArgument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	conn := e.conn(t)
	badUTF8 := []byte{'t', 'k', 0xff, 0xfe}
	methods := []struct {
		method string
		md     protoreflect.MessageDescriptor
	}{
		{pb.SelfService_GetTokenInfo_FullMethodName, (&pb.GetTokenInfoRequest{}).ProtoReflect().Descriptor()},
		{pb.SelfService_PickSeedToken_FullMethodName, (&pb.PickSeedTokenRequest{}).ProtoReflect().Descriptor()},
		{pb.TokenService_ReportLeakedTokens_FullMethodName, (&pb.ReportLeakedTokensRequest{}).ProtoReflect().Descriptor()},
		{authv3.Authorization_Check_FullMethodName, (&authv3.CheckRequest{}).ProtoReflect().Descriptor()},
		{pb.TokenService_ValidateToken_FullMethodName, (&pb.ValidateTokenRequest{}).ProtoReflect().Descriptor()},
		{pb.WorkspaceService_CreateWorkspace_FullMethodName, (&pb.CreateWorkspaceRequest{}).ProtoReflect().Descriptor()},
	}
	for _, m := range methods {
		var utf8Msg []byte
		if m.method == authv3.Authorization_Check_FullMethodName {
			utf8Msg = checkWithPath(badUTF8)
		} else {
			utf8Msg = protowire.AppendTag(nil, firstStringField(t, m.md), protowire.BytesType)
			utf8Msg = protowire.AppendBytes(utf8Msg, badUTF8)
		}
		cases := []struct {
			name string
			msg  []byte
			// want is a part of the message.
			want string
		}{
			{"invalid UTF-8", utf8Msg, "invalid UTF-8"},
			{"truncated varint", []byte{0x08, 0xff}, "not valid protobuf wire format"},
			{"truncated length", []byte{0x0a, 0x05, 'a'}, "not valid protobuf wire format"},
			{"truncated tag", []byte{0x80}, "not valid protobuf wire format"},
		}
		short := m.method[strings.LastIndexByte(m.method, '/')+1:]
		for _, c := range cases {
			t.Run(short+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				var reply []byte
				err := conn.Invoke(t.Context(), m.method, &c.msg, &reply, grpc.ForceCodec(rawCodec{}))
				if status.Code(err) != codes.InvalidArgument {
					t.Fatalf("%x = %v; want InvalidArgument", c.msg, err)
				}
				msg := status.Convert(err).Message()
				if !strings.Contains(msg, string(m.md.FullName())) || !strings.Contains(msg, c.want) {
					t.Errorf("message %q; want it to name %s and say %q", msg, m.md.FullName(), c.want)
				}
				for _, internal := range []string{"proto:", "grpc:", "unmarshal", "wire-format data"} {
					if strings.Contains(msg, internal) {
						t.Errorf("message %q shows the decoder's own words %q", msg, internal)
					}
				}
			})
		}
	}
	t.Run("string field named", func(t *testing.T) {
		t.Parallel()
		msg := protowire.AppendTag(nil, 1, protowire.BytesType)
		msg = protowire.AppendBytes(msg, badUTF8)
		var reply []byte
		err := conn.Invoke(t.Context(), pb.SelfService_GetTokenInfo_FullMethodName, &msg, &reply, grpc.ForceCodec(rawCodec{}))
		if got := status.Convert(err).Message(); !strings.Contains(got, "field token ") {
			t.Errorf("message %q does not name the field token", got)
		}
	})
	t.Run("well-formed calls still answered", func(t *testing.T) {
		t.Parallel()
		_, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: "tka_unknown"})
		if code := status.Code(err); code == codes.Internal || code == codes.InvalidArgument && strings.Contains(status.Convert(err).Message(), "wire format") {
			t.Errorf("GetTokenInfo after malformed calls = %v", err)
		}
	})
}
