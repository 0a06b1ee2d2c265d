package server_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/server"
)

// allMethods lists every RPC of the services the server registers.
func allMethods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, fd := range []protoreflect.FileDescriptor{pb.File_tokenauthority_v1_workspace_service_proto, pb.File_tokenauthority_v1_token_service_proto, pb.File_tokenauthority_v1_self_service_proto, pb.File_tokenauthority_v1_admin_service_proto, pb.File_tokenauthority_v1_audit_service_proto, authv3.File_envoy_service_auth_v3_external_auth_proto} {
		for i := 0; i < fd.Services().Len(); i++ {
			ms := fd.Services().Get(i).Methods()
			for j := 0; j < ms.Len(); j++ {
				out = append(out, ms.Get(j))
			}
		}
	}
	return out
}

func fullName(m protoreflect.MethodDescriptor) string {
	return "/" + string(m.Parent().FullName()) + "/" + string(m.Name())
}

// TestEveryMethodIsGuarded calls every RPC with an empty request under each
// kind of caller, so a method added without an entry in the access table, or
// a handler that skips authorization, fails here.
func TestEveryMethodIsGuarded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	conn := e.conn(t)
	validatorMethods := map[string]bool{
		pb.TokenService_ValidateToken_FullMethodName: true,
		pb.TokenService_CheckAccess_FullMethodName:   true,
	}
	for _, m := range allMethods() {
		name := fullName(m)
		public := m.Parent().Name() == "SelfService" || name == pb.TokenService_ReportLeakedTokens_FullMethodName ||
			name == authv3.Authorization_Check_FullMethodName // open unless GatewayCredential
		t.Run(string(m.Name()), func(t *testing.T) {
			call := func(ctx context.Context) error { return invoke(ctx, conn, m) }
			tests := []struct {
				caller string
				ctx    context.Context
				want   codes.Code // codes.OK: anything but an authentication or permission error
			}{
				{"none", t.Context(), codes.Unauthenticated},
				{"unknown credential", as(t.Context(), "tkas_nobody"), codes.Unauthenticated},
				{"validator", validator(t), codes.PermissionDenied},
				{"admin", admin(t), codes.OK},
			}
			for _, tc := range tests {
				want := tc.want
				if public || validatorMethods[name] && tc.caller == "validator" {
					want = codes.OK
				}
				err := call(tc.ctx)
				got := status.Code(err)
				isAuthErr := got == codes.PermissionDenied || got == codes.Unauthenticated && strings.Contains(status.Convert(err).Message(), "credential")
				if want == codes.OK && isAuthErr {
					t.Errorf("%s as %s: %v; want no authentication error", name, tc.caller, err)
				}
				if want != codes.OK && got != want {
					t.Errorf("%s as %s: %v; want %v", name, tc.caller, err, want)
				}
				if got == codes.Internal || got == codes.Unknown {
					t.Errorf("%s as %s with an empty request: %v; want a client error", name, tc.caller, err)
				}
			}
		})
	}
}

// TestGatewayCredential checks that Envoy's Check, open by default, needs
// a validator credential when the server is configured so.
func TestGatewayCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) { c.GatewayCredential = true })
	client := authv3.NewAuthorizationClient(e.conn(t))
	tests := []struct {
		caller string
		ctx    context.Context
		want   codes.Code
	}{
		{"none", t.Context(), codes.Unauthenticated},
		{"unknown credential", as(t.Context(), "tkas_nobody"), codes.Unauthenticated},
		{"validator", validator(t), codes.OK},
		{"admin", admin(t), codes.OK},
	}
	for _, tc := range tests {
		_, err := client.Check(tc.ctx, &authv3.CheckRequest{})
		if got := status.Code(err); got != tc.want {
			t.Errorf("Check as %s: %v; want %v", tc.caller, err, tc.want)
		}
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := metadataCtx(t, "authorization", "bearer "+adminSecret)
	if _, err := e.workspaces.ListWorkspaces(ctx, &pb.ListWorkspacesRequest{}); err != nil {
		t.Errorf("lowercase bearer: %v", err)
	}
	ctx = metadataCtx(t, "authorization", "Basic "+adminSecret)
	if _, err := e.workspaces.ListWorkspaces(ctx, &pb.ListWorkspacesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("Basic scheme: %v; want Unauthenticated", err)
	}
}

// invoke calls m with an empty request and returns its status: for a
// server-streaming method, the status at the end of the stream.
func invoke(ctx context.Context, conn *grpc.ClientConn, m protoreflect.MethodDescriptor) error {
	req := dynamicpb.NewMessage(m.Input())
	if !m.IsStreamingServer() {
		return conn.Invoke(ctx, fullName(m), req, dynamicpb.NewMessage(m.Output()))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, fullName(m))
	if err != nil {
		return err
	}
	if err := stream.SendMsg(req); err != nil {
		return err
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	for {
		if err := stream.RecvMsg(dynamicpb.NewMessage(m.Output())); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func (e *env) conn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
