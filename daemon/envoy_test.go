package daemon_test

import (
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"tokenauthority/internal/teststack"
)

// rawCodec sends bytes as they are, to put a malformed message on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestEnvoyCheckWiring: the daemon registers authz's Envoy Check behind the
// server's authorization table (--authz-require-credential refuses a call
// without a credential) and decodes it with a codec that answers a
// malformed request InvalidArgument.
func TestEnvoyCheckWiring(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	cfg.AuthzRequireCredential = true
	d := teststack.RunDaemon(t, cfg)
	conn := d.Conn()
	client := authv3.NewAuthorizationClient(conn)
	req := &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/zoo/v1/public/models/acme/pub/m.bin"}},
	}}
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"no credential", func() error { _, err := client.Check(t.Context(), req); return err }, codes.Unauthenticated},
		{"admin credential", func() error {
			resp, err := client.Check(d.AsAdmin(t.Context()), req)
			if err == nil && codes.Code(resp.GetStatus().GetCode()) != codes.PermissionDenied {
				t.Errorf("Check of an unknown zoo = %v; want a PermissionDenied answer", resp.GetStatus())
			}
			return err
		}, codes.OK},
		{"truncated message", func() error {
			msg, reply := []byte{0x0a, 0x05, 'a'}, []byte(nil)
			return conn.Invoke(d.AsAdmin(t.Context()), authv3.Authorization_Check_FullMethodName, &msg, &reply, grpc.ForceCodec(rawCodec{}))
		}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); status.Code(err) != tt.want {
				t.Errorf("Check = %v; want %v", err, tt.want)
			}
		})
	}
}
