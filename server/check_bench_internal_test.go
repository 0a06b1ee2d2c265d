package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"

	"tokenauthority/authz"
	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/ratelimit"
	"tokenauthority/seal"
	"tokenauthority/storage/bbolt"
)

// BenchmarkCheckServerWork measures what the server does for one call
// besides the transport: decoding the request with the server's codec, the
// interceptor, the handler and encoding the response, for Envoy's ext_authz
// Check of a request as Envoy sends it (ten headers, both addresses) and,
// as the baseline, for ValidateToken of the same token with a validator
// credential. Both run against a real bbolt file, with the gateway limiter
// on as the load harness runs it.
//
//	go test ./server -run '^$' -bench CheckServerWork -benchmem
func BenchmarkCheckServerWork(b *testing.B) {
	dir := b.TempDir()
	store, err := bbolt.Open(filepath.Join(dir, "t.db"), bbolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	key, err := seal.LoadOrCreateKey(filepath.Join(dir, "master.key"))
	if err != nil {
		b.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		b.Fatal(err)
	}
	const adm, val = "tkas_admin-secret-for-tests", "tkas_validator-secret-for-tests"
	creds, err := credential.Parse([]byte(`{"credentials":[
		{"name":"web","role":"admin","sha256":"` + credential.HashHex(adm) + `"},
		{"name":"zoo-service","role":"validator","sha256":"` + credential.HashHex(val) + `"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	s := New(Config{Store: store, Box: box, Credentials: creds, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		GatewayLimiter: ratelimit.New(ratelimit.Config{Rate: 1e7, Burst: 1e7})})
	pctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}})
	actx := metadata.NewIncomingContext(pctx, metadata.Pairs("authorization", "Bearer "+adm))
	if _, err := s.Workspaces().CreateWorkspace(actx, &pb.CreateWorkspaceRequest{WorkspaceId: "bench", DisplayName: "b"}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Workspaces().AddMember(actx, &pb.AddMemberRequest{WorkspaceId: "bench", UserId: "ann"}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Workspaces().CreateZoo(actx, &pb.CreateZooRequest{WorkspaceId: "bench", ZooId: "models", Visibility: pb.Visibility_VISIBILITY_PRIVATE}); err != nil {
		b.Fatal(err)
	}
	cr, err := s.Tokens().CreateToken(actx, &pb.CreateTokenRequest{WorkspaceId: "bench", UserId: "ann"})
	if err != nil {
		b.Fatal(err)
	}
	secret := cr.GetSecret()
	path := "/zoo/v1/inference/bench/models/v1/chat/completions"
	check := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:      &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.0.0.7", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 41234}}}}},
		Destination: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.0.0.2", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 443}}}}},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Id: "8431570928745628342", Method: "POST", Path: path, Host: "hub.example", Scheme: "https", Protocol: "HTTP/1.1",
			Headers: map[string]string{
				":authority": "hub.example", ":method": "POST", ":path": path, ":scheme": "https",
				"authorization": "Bearer " + secret, "content-type": "application/json",
				"user-agent": "python-requests/2.32.3", "accept": "*/*",
				"x-forwarded-proto": "https", "x-request-id": "1f0c5a52-8e0d-4c43-9d0b-8d2f4f0a6b1e",
			},
		}},
	}}
	checkBytes, err := proto.Marshal(check)
	if err != nil {
		b.Fatal(err)
	}
	valBytes, err := proto.Marshal(&pb.ValidateTokenRequest{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	// The codec and the Check daemon assembles.
	c := newCodec(authz.EnvoyCodec(nil))
	guarded := Guarded(s, EnvoyCheckMethod, authz.New(s.access, nil, s.metrics).Check)
	tokens := s.Tokens()
	vctx := metadata.NewIncomingContext(pctx, metadata.Pairs("authorization", "Bearer "+val))
	checkInfo := &grpc.UnaryServerInfo{FullMethod: EnvoyCheckMethod}
	valInfo := &grpc.UnaryServerInfo{FullMethod: pb.TokenService_ValidateToken_FullMethodName}
	b.Run("ext_authz_Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := new(authv3.CheckRequest)
			if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(checkBytes)}, req); err != nil {
				b.Fatal(err)
			}
			resp, err := s.unary(pctx, req, checkInfo, func(ctx context.Context, r any) (any, error) { return guarded(ctx, r.(*authv3.CheckRequest)) })
			if err != nil || resp.(*authv3.CheckResponse).GetStatus().GetCode() != 0 {
				b.Fatal(resp, err)
			}
			out, err := c.Marshal(resp)
			if err != nil {
				b.Fatal(err)
			}
			out.Free()
		}
	})
	b.Run("baseline=ValidateToken", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := new(pb.ValidateTokenRequest)
			if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(valBytes)}, req); err != nil {
				b.Fatal(err)
			}
			resp, err := s.unary(vctx, req, valInfo, func(ctx context.Context, r any) (any, error) {
				return tokens.ValidateToken(ctx, r.(*pb.ValidateTokenRequest))
			})
			if err != nil || !resp.(*pb.ValidateTokenResponse).GetValid() {
				b.Fatal(resp, err)
			}
			out, err := c.Marshal(resp)
			if err != nil {
				b.Fatal(err)
			}
			out.Free()
		}
	})
}
