package authz_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"tokenauthority/internal/teststack"
)

// TestCheckResponses pins the exact shape of Check's answers: what Envoy
// adds and removes upstream, and what it sends back on a denial.
func TestCheckResponses(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	c := authv3.NewAuthorizationClient(s.Conn)
	overwrite := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	hv := func(k, v string) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: overwrite}
	}
	spoofed := map[string]string{"x-workspace-id": "acme", "x-user-id": "root", "x-token-id": "forged"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}

	t.Run("allowed with a token", func(t *testing.T) {
		t.Parallel()
		resp, err := c.Check(t.Context(), checkRequest("GET", "/zoo/v1/public/models/acme/priv/m.bin", with(spoofed, "token", f.Secrets["own"]), nil))
		if err != nil {
			t.Fatal(err)
		}
		want := &authv3.CheckResponse{
			Status: statusOK(),
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{
				Headers: []*corev3.HeaderValueOption{
					hv("x-workspace-id", "acme"), hv("x-token-id", f.TokenIDs["own"]), hv("x-user-id", "alice"),
				},
				HeadersToRemove: []string{"token", "authorization"},
			}},
		}
		if diff := cmp.Diff(want, resp, protocmp.Transform()); diff != "" {
			t.Errorf("Check mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("anonymous allow strips identity", func(t *testing.T) {
		t.Parallel()
		resp, err := c.Check(t.Context(), checkRequest("GET", "/zoo/v1/public/models/acme/pub/m.bin", spoofed, nil))
		if err != nil {
			t.Fatal(err)
		}
		ok := resp.GetOkResponse()
		if codes.Code(resp.GetStatus().GetCode()) != codes.OK || ok == nil || len(ok.GetHeaders()) != 0 {
			t.Fatalf("Check = %v; want OK without headers to add", resp)
		}
		for _, h := range []string{"x-workspace-id", "x-token-id", "x-user-id", "token", "authorization"} {
			if !slices.Contains(ok.GetHeadersToRemove(), h) {
				t.Errorf("headers_to_remove = %v; want %q in it", ok.GetHeadersToRemove(), h)
			}
		}
	})

	t.Run("header_map", func(t *testing.T) {
		t.Parallel()
		req := checkRequest("GET", "/zoo/v1/inference/acme/priv/run", nil, nil)
		req.Attributes.Request.Http.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
			{Key: "Authorization", RawValue: []byte("Bearer " + f.Secrets["own"])},
		}}
		resp, err := c.Check(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if codes.Code(resp.GetStatus().GetCode()) != codes.OK {
			t.Errorf("Check with header_map = %v; want OK", resp)
		}
	})

	denials := []struct {
		name       string
		req        *authv3.CheckRequest
		httpStatus typev3.StatusCode
		code       codes.Code
		reason     string
		detail     string // substring
	}{
		{"no token for cloud inference", checkRequest("POST", "/zoo/v1/inference/acme/pub/run", nil, nil),
			typev3.StatusCode_Unauthorized, codes.Unauthenticated, "REASON_TOKEN_REQUIRED", "token is required"},
		{"revoked token", checkRequest("GET", "/zoo/v1/public/models/acme/pub/m", map[string]string{"token": f.Secrets["revoked"]}, nil),
			typev3.StatusCode_Unauthorized, codes.Unauthenticated, "REASON_REVOKED", "revoked"},
		{"other workspace's private zoo", checkRequest("GET", "/zoo/v1/public/models/acme/priv/m", map[string]string{"authorization": "Bearer " + f.Secrets["other"]}, nil),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_ZOO_NOT_FOUND", "acme/priv"},
		{"unmatched path", checkRequest("GET", "/admin", map[string]string{"token": f.Secrets["own"]}, nil),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "no authorization rule matches"},
		{"dot dot", checkRequest("GET", "/zoo/v1/public/models/acme/pub/../../inference/acme/priv/x", map[string]string{"token": f.Secrets["own"]}, nil),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "dot segment"},
		{"encoded slash", checkRequest("GET", "/zoo/v1/public/models/acme%2Fpriv/x", nil, nil),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "encoded slash"},
		{"zoo without operation", checkRequest("GET", "/x", nil, map[string]string{"zoo": "acme/pub"}),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "both"},
		{"bad operation", checkRequest("GET", "/x", nil, map[string]string{"zoo": "acme/pub", "operation": "upload"}),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "upload"},
		{"bad zoo", checkRequest("GET", "/x", nil, map[string]string{"zoo": "acme", "operation": "download"}),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "workspace/zoo"},
		{"bad zoo name", checkRequest("GET", "/x", nil, map[string]string{"zoo": "Acme/../pub", "operation": "download"}),
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "workspace/zoo"},
		{"no attributes", &authv3.CheckRequest{},
			typev3.StatusCode_Forbidden, codes.PermissionDenied, "REASON_UNSPECIFIED", "no HTTP request attributes"},
	}
	for _, tt := range denials {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := c.Check(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			d := resp.GetDeniedResponse()
			if got := codes.Code(resp.GetStatus().GetCode()); got != tt.code || d == nil || d.GetStatus().GetCode() != tt.httpStatus {
				t.Fatalf("Check = %v; want %v with HTTP %v", resp, tt.code, tt.httpStatus)
			}
			var body struct{ Detail, Reason string }
			if err := json.Unmarshal([]byte(d.GetBody()), &body); err != nil {
				t.Fatalf("body %q: %v", d.GetBody(), err)
			}
			if body.Reason != tt.reason || !strings.Contains(body.Detail, tt.detail) {
				t.Errorf("body = %+v; want reason %s and a detail containing %q", body, tt.reason, tt.detail)
			}
			headers := map[string]string{}
			for _, h := range d.GetHeaders() {
				headers[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
			}
			if headers["content-type"] != "application/json" {
				t.Errorf("headers = %v; want content-type application/json", headers)
			}
			if _, ok := headers["www-authenticate"]; ok != (tt.httpStatus == typev3.StatusCode_Unauthorized) {
				t.Errorf("headers = %v; want www-authenticate exactly on 401", headers)
			}
			for _, secret := range f.Secrets {
				if strings.Contains(d.GetBody(), secret) || strings.Contains(resp.GetStatus().GetMessage(), secret) {
					t.Errorf("denial repeats the token")
				}
			}
		})
	}
}

func statusOK() *rpcstatus.Status { return &rpcstatus.Status{Code: int32(codes.OK)} }
