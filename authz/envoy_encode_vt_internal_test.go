//go:build vtprotobuf

package authz

import (
	"bytes"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// The responses the gateway writes most: an allowed request with its
// identity headers, and a denial.
func vtResponses() map[string]*authv3.CheckResponse {
	opt := func(k, v string) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}
	}
	return map[string]*authv3.CheckResponse{
		"allowed": {Status: &status.Status{}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
			Headers:         []*corev3.HeaderValueOption{opt("x-workspace-id", "acme"), opt("x-token-id", "01jd2x3y4z5a6b7c8d9e0f1g2h"), opt("x-user-id", "ann")},
			HeadersToRemove: []string{"token", "authorization"},
		}}},
		"denied": {Status: &status.Status{Code: 16, Message: "no token"}, HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status:  &typev3.HttpStatus{Code: typev3.StatusCode_Unauthorized},
			Headers: []*corev3.HeaderValueOption{opt("content-type", "application/json"), opt("www-authenticate", `Bearer realm="tokenauthority"`)},
			Body:    `{"detail":"no token","reason":"REASON_TOKEN_MISSING"}`,
		}}},
	}
}

// TestMarshalVTStrictTwin holds go-control-plane's generated encoder to
// proto.Marshal on the gateway's responses, and records why the codec
// keeps appendCheckResponse although MarshalVTStrict is about as fast (see
// BenchmarkCheckResponseEncoders): MarshalVTStrict writes a string that is
// not UTF-8, which proto.Marshal (and appendCheckResponse) refuse and
// Envoy's decoder rejects, and it exists only in builds with the
// vtprotobuf tag. When this test fails because the generated encoder
// started refusing bad UTF-8, the choice is worth making again.
func TestMarshalVTStrictTwin(t *testing.T) {
	t.Parallel()
	for name, r := range vtResponses() {
		t.Run(name, func(t *testing.T) {
			want, err := proto.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.MarshalVTStrict()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("MarshalVTStrict = %x\nproto.Marshal   = %x", got, want)
			}
		})
	}
	bad := &authv3.CheckResponse{HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{Body: "\xff"}}}
	if _, err := proto.Marshal(bad); err == nil {
		t.Fatal("proto.Marshal wrote a body that is not UTF-8")
	}
	if _, ok := appendCheckResponse(nil, bad); ok {
		t.Error("appendCheckResponse wrote a body that is not UTF-8")
	}
	if _, err := bad.MarshalVTStrict(); err != nil {
		t.Logf("MarshalVTStrict now refuses a string that is not UTF-8 (%v): compare the encoders again", err)
		t.Fail()
	}
}

// BenchmarkCheckResponseEncoders compares, on the gateway's responses,
// the codec's encoding (appendCheckResponse) with go-control-plane's
// generated MarshalVTStrict (build tag vtprotobuf) and proto.Marshal, each
// as grpc-go receives it, in alternating rounds.
//
//	go test -tags vtprotobuf -run '^$' -bench CheckResponseEncoders -benchmem ./authz
func BenchmarkCheckResponseEncoders(b *testing.B) {
	for name, r := range vtResponses() {
		for range 3 {
			b.Run(name+"/append", func(b *testing.B) {
				b.ReportAllocs()
				c := EnvoyCodec(nil)
				for b.Loop() {
					out, err := c.Marshal(r)
					if err != nil {
						b.Fatal(err)
					}
					out.Free()
				}
			})
			b.Run(name+"/MarshalVTStrict", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					enc, err := r.MarshalVTStrict()
					if err != nil {
						b.Fatal(err)
					}
					out := mem.BufferSlice{mem.SliceBuffer(enc)}
					out.Free()
				}
			})
			b.Run(name+"/proto.Marshal", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					enc, err := proto.Marshal(r)
					if err != nil {
						b.Fatal(err)
					}
					out := mem.BufferSlice{mem.SliceBuffer(enc)}
					out.Free()
				}
			})
		}
	}
}
