package authz_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"tokenauthority/client"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// answer is one entry point's decision in common terms.
type answer struct {
	Allowed bool
	Status  int // HTTP status a gateway answers: 200, 401 or 403
	Reason  pb.Reason
}

// accessCell is a row of the access table of the product brief, or a token
// that is not valid.
type accessCell struct {
	zoo   string // zoo id in workspace acme
	op    pb.Operation
	token string // fixture name; "" for none
	want  answer
}

func allowed(r pb.Reason) answer   { return answer{true, 200, r} }
func deniedTo(r pb.Reason) answer  { return answer{false, 403, r} }
func needToken(r pb.Reason) answer { return answer{false, 401, r} }

// accessCells is every cell of the access table (public/private zoo ×
// download/cloud × no token/own workspace/other workspace), a missing zoo,
// every invalid-token reason the API can produce, and a token's scopes.
var accessCells = []accessCell{
	{"pub", dl, "", allowed(pb.Reason_REASON_PUBLIC)},
	{"pub", dl, "own", allowed(pb.Reason_REASON_VALID)},
	{"pub", dl, "other", allowed(pb.Reason_REASON_VALID)},
	{"pub", cloud, "", needToken(pb.Reason_REASON_TOKEN_REQUIRED)},
	{"pub", cloud, "own", allowed(pb.Reason_REASON_VALID)},
	{"pub", cloud, "other", allowed(pb.Reason_REASON_VALID)},
	{"priv", dl, "", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
	{"priv", dl, "own", allowed(pb.Reason_REASON_VALID)},
	{"priv", dl, "other", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
	{"priv", cloud, "", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
	{"priv", cloud, "own", allowed(pb.Reason_REASON_VALID)},
	{"priv", cloud, "other", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
	{"missing", dl, "", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
	{"missing", cloud, "own", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
	// A token that is not valid is refused with its reason, even where no
	// token would have been allowed.
	{"pub", dl, "expired", needToken(pb.Reason_REASON_EXPIRED)},
	{"pub", dl, "revoked", needToken(pb.Reason_REASON_REVOKED)},
	{"pub", dl, "left", needToken(pb.Reason_REASON_NOT_MEMBER)},
	{"pub", dl, "unknown", needToken(pb.Reason_REASON_UNKNOWN)},
	{"pub", dl, "malformed", needToken(pb.Reason_REASON_MALFORMED)},
	{"priv", cloud, "revoked", needToken(pb.Reason_REASON_REVOKED)},
	{"priv", cloud, "left", needToken(pb.Reason_REASON_NOT_MEMBER)},
	{"pub", dl, "disabled", needToken(pb.Reason_REASON_DISABLED)},
	{"priv", cloud, "disabled", needToken(pb.Reason_REASON_DISABLED)},
	// A lowered workspace limit ends a token at use.
	{"pub", dl, "capped", needToken(pb.Reason_REASON_EXPIRED)},
	// Scopes only take away: outside them an allowance becomes
	// OUT_OF_SCOPE (also a public download); a denial keeps its reason.
	{"pub", dl, "scoped", allowed(pb.Reason_REASON_VALID)},
	{"pub", cloud, "scoped", deniedTo(pb.Reason_REASON_OUT_OF_SCOPE)},
	{"priv", dl, "scoped", deniedTo(pb.Reason_REASON_OUT_OF_SCOPE)},
	{"missing", dl, "scoped", deniedTo(pb.Reason_REASON_ZOO_NOT_FOUND)},
}

// pathOf is the model-server path of a cell under the default rules.
func pathOf(zoo string, op pb.Operation) string {
	if op == cloud {
		return "/zoo/v1/inference/acme/" + zoo + "/predict"
	}
	return "/zoo/v1/public/models/acme/" + zoo + "/model.bin"
}

// TestEntryPointsAgree asks the same question of every entry point: the
// gRPC CheckAccess, Envoy's Check (by path and by context_extensions),
// forward auth at /v1/authz, and the client middleware in front of a
// handler, with the token in the "token" header and as a Bearer.
func TestEntryPointsAgree(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	envoy := authv3.NewAuthorizationClient(s.Conn)
	c := client.New(s.Conn, client.WithCredential(teststack.ValidatorSecret))
	hub := httptest.NewServer(hubService(c))
	t.Cleanup(hub.Close)

	for _, cell := range accessCells {
		secret := f.Secrets[cell.token]
		for _, via := range []string{"token", "bearer"} {
			if cell.token == "" && via == "bearer" {
				continue
			}
			name := "acme/" + cell.zoo + "/" + cell.op.String() + "/" + cell.token + "/" + via
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				headers := map[string]string{}
				if secret != "" {
					if via == "token" {
						headers["token"] = secret
					} else {
						headers["authorization"] = "Bearer " + secret
					}
				}
				got := map[string]answer{
					"CheckAccess":     viaCheckAccess(t, s, secret, "acme/"+cell.zoo, cell.op),
					"Check (path)":    viaEnvoy(t, envoy, pathOf(cell.zoo, cell.op), headers, nil),
					"Check (context)": viaEnvoy(t, envoy, "/anything", headers, map[string]string{"zoo": "acme/" + cell.zoo, "operation": opName(cell.op)}),
					"/v1/authz":       viaHTTP(t, s.HTTPURL+"/v1/authz", map[string]string{"X-Original-URI": pathOf(cell.zoo, cell.op)}, headers),
					"middleware":      viaHTTP(t, hub.URL+pathOf(cell.zoo, cell.op), nil, headers),
				}
				for entry, a := range got {
					if a != cell.want {
						t.Errorf("%s = %+v; want %+v", entry, a, cell.want)
					}
				}
			})
		}
	}
}

func opName(op pb.Operation) string {
	if op == cloud {
		return "cloud_inference"
	}
	return "download"
}

// hubService is a hub service protecting its model routes with the
// middleware, as docs/gateways.md shows.
func hubService(c *client.Client) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := client.FromContext(r.Context())
		w.Header().Set("X-Reason", v.Reason.String())
		io.WriteString(w, "model bytes")
	})
	zoo := func(op pb.Operation) func(*http.Request) (client.Target, error) {
		return func(r *http.Request) (client.Target, error) {
			return client.Target{Zoo: r.PathValue("workspace") + "/" + r.PathValue("zoo"), Operation: op}, nil
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/zoo/v1/public/models/{workspace}/{zoo}/{file...}", c.Middleware(zoo(dl))(ok))
	mux.Handle("/zoo/v1/inference/{workspace}/{zoo}/{file...}", c.Middleware(zoo(cloud))(ok))
	return mux
}

func viaCheckAccess(t *testing.T, s *teststack.Stack, secret, zoo string, op pb.Operation) answer {
	t.Helper()
	resp, err := s.Tokens.CheckAccess(teststack.As(t.Context(), teststack.ValidatorSecret), &pb.CheckAccessRequest{Secret: secret, Zoo: zoo, Operation: op})
	if err != nil {
		t.Fatalf("CheckAccess: %v", err)
	}
	a := answer{Allowed: resp.GetAllowed(), Reason: resp.GetReason(), Status: 200}
	if !a.Allowed {
		// The gRPC API has no HTTP status; its reason decides the one
		// every gateway must answer.
		a.Status = 403
		switch a.Reason {
		case pb.Reason_REASON_TOKEN_REQUIRED, pb.Reason_REASON_MALFORMED, pb.Reason_REASON_UNKNOWN,
			pb.Reason_REASON_EXPIRED, pb.Reason_REASON_REVOKED, pb.Reason_REASON_NOT_MEMBER, pb.Reason_REASON_DISABLED:
			a.Status = 401
		}
	}
	return a
}

func viaEnvoy(t *testing.T, c authv3.AuthorizationClient, path string, headers, ext map[string]string) answer {
	t.Helper()
	resp, err := c.Check(t.Context(), checkRequest("GET", path, headers, ext))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if codes.Code(resp.GetStatus().GetCode()) == codes.OK {
		return answer{Allowed: true, Status: 200, Reason: reasonOfOK(resp)}
	}
	d := resp.GetDeniedResponse()
	return answer{Status: int(d.GetStatus().GetCode()), Reason: reasonOf(t, d.GetBody())}
}

// reasonOfOK infers the reason of an allowed Check: Envoy's OK answer has
// no body, but an anonymous allow removes the identity headers while a
// valid token sets them.
func reasonOfOK(resp *authv3.CheckResponse) pb.Reason {
	if len(resp.GetOkResponse().GetHeaders()) > 0 {
		return pb.Reason_REASON_VALID
	}
	return pb.Reason_REASON_PUBLIC
}

func checkRequest(method, path string, headers, ext map[string]string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: method, Path: path, Host: "models.example", Scheme: "https", Headers: headers,
		}},
		ContextExtensions: ext,
	}}
}

func viaHTTP(t *testing.T, url string, extra, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		r := pb.Reason_REASON_PUBLIC
		if resp.Header.Get("X-Workspace-Id") != "" || resp.Header.Get("X-Reason") == pb.Reason_REASON_VALID.String() {
			r = pb.Reason_REASON_VALID
		}
		return answer{Allowed: true, Status: 200, Reason: r}
	}
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: 401 without a Bearer WWW-Authenticate", url)
	}
	return answer{Status: resp.StatusCode, Reason: reasonOf(t, string(body))}
}

// reasonOf reads the reason of a denial's JSON body, which must also carry
// a detail.
func reasonOf(t *testing.T, body string) pb.Reason {
	t.Helper()
	var b struct{ Detail, Reason string }
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("denial body %q is not JSON: %v", body, err)
	}
	if b.Detail == "" {
		t.Errorf("denial body %q has no detail", body)
	}
	return pb.Reason(pb.Reason_value[b.Reason])
}
