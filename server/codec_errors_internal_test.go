package server

import (
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestCodecReportsDecodeFailures: a message that cannot be decoded is
// reported once, emptied, and the table is empty once it is taken; a good
// message leaves nothing behind. The field of a string that is not UTF-8
// is named through nested messages (Check's path).
func TestCodecReportsDecodeFailures(t *testing.T) {
	t.Parallel()
	c := newCodec(nil)
	path := protowire.AppendTag(nil, 4, protowire.BytesType)
	path = protowire.AppendBytes(path, []byte{0xff})
	nest := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
	}
	tests := []struct {
		name string
		msg  any
		data []byte
		want string // "" for a good message
	}{
		{"good", &pb.GetTokenInfoRequest{}, nest(1, []byte("tka_x")), ""},
		{"bad UTF-8", &pb.GetTokenInfoRequest{}, nest(1, []byte{0xff}),
			"the request message is not a valid tokenauthority.v1.GetTokenInfoRequest: string field token holds invalid UTF-8"},
		{"bad UTF-8 in a nested field", &authv3.CheckRequest{}, nest(1, nest(4, nest(2, path))),
			"the request message is not a valid envoy.service.auth.v3.CheckRequest: string field attributes.request.http.path holds invalid UTF-8"},
		{"truncated", &pb.ReportLeakedTokensRequest{}, []byte{0x0a, 0x09, 'a'},
			"the request message is not a valid tokenauthority.v1.ReportLeakedTokensRequest: its bytes are not valid protobuf wire format (a field is truncated or malformed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tt.data)}, tt.msg); err != nil {
				t.Fatalf("Unmarshal = %v; want nil, the failure kept for the interceptor", err)
			}
			err := c.failed.take(tt.msg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("good message reported %v", err)
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() != tt.want {
				t.Errorf("reported %v; want InvalidArgument %q", err, tt.want)
			}
			if again := c.failed.take(tt.msg); again != nil {
				t.Errorf("reported twice: %v", again)
			}
			if n := c.failed.n.Load(); n != 0 {
				t.Errorf("%d failures left in the table", n)
			}
		})
	}
}
