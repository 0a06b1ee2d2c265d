package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/metadata"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/server/rest"
)

// echoTokens answers CheckAccess with the incoming metadata it was called
// with, and ValidateToken with an error for secrets starting "err-".
type echoTokens struct {
	tokens
}

func (echoTokens) CheckAccess(ctx context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var pairs []string
	for k, vs := range md {
		pairs = append(pairs, k+"="+strings.Join(vs, ","))
	}
	slices.Sort(pairs)
	return &pb.CheckAccessResponse{
		Allowed:     req.GetOperation() == pb.Operation_OPERATION_DOWNLOAD,
		Reason:      pb.Reason_REASON_PUBLIC,
		WorkspaceId: strings.Join(pairs, ";"),
	}, nil
}

func (echoTokens) ValidateToken(_ context.Context, req *pb.ValidateTokenRequest) (*pb.ValidateTokenResponse, error) {
	if s, ok := strings.CutPrefix(req.GetSecret(), "err-"); ok {
		return nil, workspaceErrors[s]
	}
	return &pb.ValidateTokenResponse{Valid: true, Reason: pb.Reason_REASON_VALID, Token: &pb.Token{TokenId: "t1", WorkspaceId: "acme", CreateTime: nil}}, nil
}

// TestHotRoutesAnswerAsTheGateway sends each request once the direct way
// and once through the gateway (a method override header sends it there)
// and wants the same status, headers, body and route label.
func TestHotRoutesAnswerAsTheGateway(t *testing.T) {
	t.Parallel()
	h, err := rest.New(context.Background(), rest.Config{MaxBodyBytes: 256}, echoTokens{}, workspaces{}, self{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	bodies := []string{
		`{"secret":"tka_x"}`,
		`{"secret":"tka_x","zoo":"acme/m","operation":"OPERATION_DOWNLOAD"}`,
		`{"secret":"tka_x","zoo":"acme/m","operation":"OPERATION_CLOUD_INFERENCE"}`,
		``,
		`{}`,
		`{"secret":"a\"b"}`,
		`{"sekret":"x"}`,
		`{"secret":1}`,
		`{"secret":`,
		`not json`,
		`{"secret":"x"} trailing`,
		`{"secret":"` + strings.Repeat("x", 300) + `"}`,
		`{"secret":"err-not-found"}`,
		`{"secret":"err-unauthn"}`,
		`{"secret":"err-with-details"}`,
		`{"secret":"err-not-a-status"}`,
		`{"operation":"OPERATION_NOPE"}`,
	}
	headers := []http.Header{
		{},
		{"Authorization": {"Bearer tkas_x"}, "X-Forwarded-For": {"10.0.0.1"}, "Grpc-Metadata-Custom": {"v"}, "Token": {"tka_y"}},
	}
	for _, path := range []string{"/v1/tokens:validate", "/v1/access:check"} {
		for i, body := range bodies {
			for j, header := range headers {
				t.Run(fmt.Sprintf("%s/%d/%d", path, i, j), func(t *testing.T) {
					direct := do(t, srv, http.MethodPost, path, body, header.Clone())
					viaGateway := header.Clone()
					viaGateway.Set("X-HTTP-Method-Override", "POST")
					gateway := do(t, srv, http.MethodPost, path, body, viaGateway)
					if direct.status != gateway.status {
						t.Errorf("status = %d, the gateway answers %d", direct.status, gateway.status)
					}
					if diff := cmp.Diff(string(gateway.body), string(direct.body)); diff != "" {
						t.Errorf("body (-gateway +direct):\n%s", diff)
					}
					d, g := direct.header.Clone(), gateway.header.Clone()
					d.Del("Date")
					g.Del("Date")
					if diff := cmp.Diff(g, d); diff != "" {
						t.Errorf("headers (-gateway +direct):\n%s", diff)
					}
				})
			}
		}
	}
}

func TestRoutesCannotShadowHotRoutes(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{"POST /v1/tokens:validate", "/v1/access:check"} {
		_, err := rest.New(context.Background(), rest.Config{Routes: map[string]http.Handler{pattern: http.NotFoundHandler()}}, tokens{}, workspaces{}, self{})
		if !errors.Is(err, rest.ErrRouteConflict) {
			t.Errorf("New with route %q: error = %v, want ErrRouteConflict", pattern, err)
		}
	}
}
