package authz_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"

	"tokenauthority/internal/pathcases"
	"tokenauthority/internal/teststack"
)

// TestPlainPathsAtEntryPoints sends every attack path of the naive-server
// model to /v1/authz and to Envoy's Check with a token that may read both
// zoos: each is refused as a path (403 with a detail), never decided. The
// plain paths the SDK sends are decided as usual.
func TestPlainPathsAtEntryPoints(t *testing.T) {
	t.Parallel()
	s := teststack.Start(t)
	f := s.MakeFixture(t)
	own := f.Secrets["own"]
	envoy := authv3.NewAuthorizationClient(s.Conn)

	forward := func(t *testing.T, uri string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.HTTPURL+"/v1/authz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Original-URI", uri)
		req.Header.Set("token", own)
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
			return 200, ""
		}
		var b struct{ Detail string }
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		return resp.StatusCode, b.Detail
	}
	check := func(t *testing.T, uri string) (int, string) {
		t.Helper()
		resp, err := envoy.Check(t.Context(), checkRequest("GET", uri, map[string]string{"token": own}, nil))
		if err != nil {
			t.Fatal(err)
		}
		if codes.Code(resp.GetStatus().GetCode()) == codes.OK {
			return 200, ""
		}
		d := resp.GetDeniedResponse()
		var b struct{ Detail string }
		if err := json.Unmarshal([]byte(d.GetBody()), &b); err != nil {
			t.Fatalf("body %q: %v", d.GetBody(), err)
		}
		return int(d.GetStatus().GetCode()), b.Detail
	}
	entries := map[string]func(*testing.T, string) (int, string){"/v1/authz": forward, "Check": check}

	for _, uri := range pathcases.Attacks() {
		t.Run("refused "+uri, func(t *testing.T) {
			t.Parallel()
			for name, ask := range entries {
				if name == "Check" && !utf8.ValidString(uri) {
					continue // Envoy's path is a protobuf string: always UTF-8
				}
				status, detail := ask(t, uri)
				if status != 403 || !strings.HasPrefix(detail, "the request path is refused: ") {
					t.Errorf("%s(%q) = %d %q; want 403 refusing the path", name, uri, status, detail)
				}
			}
		})
	}
	for _, uri := range pathcases.Plain() {
		t.Run("plain "+uri, func(t *testing.T) {
			t.Parallel()
			for name, ask := range entries {
				if status, detail := ask(t, uri); status != 200 {
					t.Errorf("%s(%q) = %d %q; want 200", name, uri, status, detail)
				}
			}
		})
	}
}
