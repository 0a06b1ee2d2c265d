package rest

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestRouteMethods: every route of the OpenAPI document maps to a method
// of the API, and the routes of the methods that need no credential are
// there under the labels recordRoute gives them.
func TestRouteMethods(t *testing.T) {
	t.Parallel()
	methods, err := routeMethods()
	if err != nil {
		t.Fatal(err)
	}
	for route, full := range methods {
		svc, name, _ := strings.Cut(strings.TrimPrefix(full, "/"), "/")
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
		if err != nil {
			t.Errorf("route %s: service of %s: %v", route, full, err)
			continue
		}
		if sd, ok := d.(protoreflect.ServiceDescriptor); !ok || sd.Methods().ByName(protoreflect.Name(name)) == nil {
			t.Errorf("route %s names %s, which is not a method", route, full)
		}
	}
	for route, want := range map[string]string{
		"POST /v1/tokens:reportLeaked":         pb.TokenService_ReportLeakedTokens_FullMethodName,
		"GET /api/v1/tokens/{token}/info":      pb.SelfService_GetTokenInfo_FullMethodName,
		"PATCH /api/v1/tokens/{token}/refresh": pb.SelfService_RefreshToken_FullMethodName,
		"POST /api/v1/tokens-seed/pick":        pb.SelfService_PickSeedToken_FullMethodName,
	} {
		if got := methods[route]; got != want {
			t.Errorf("route %s maps to %q; want %s", route, got, want)
		}
	}
}
