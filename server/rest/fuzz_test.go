package rest_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/credential"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/server/rest"
	"tokenauthority/storage/bbolt"
)

// fuzzRoutes are the API's routes with a body or a path parameter; "{}"
// stands for the fuzzed path segment.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/workspaces"},
	{"GET", "/v1/workspaces/{}"},
	{"GET", "/v1/workspaces"},
	{"DELETE", "/v1/workspaces/{}"},
	{"POST", "/v1/workspaces/acme/members"},
	{"DELETE", "/v1/workspaces/acme/members/{}"},
	{"POST", "/v1/workspaces/acme/zoos"},
	{"PATCH", "/v1/workspaces/acme/zoos/{}"},
	{"POST", "/v1/workspaces/acme/tokens"},
	{"GET", "/v1/workspaces/acme/tokens"},
	{"GET", "/v1/workspaces/acme/tokens/{}"},
	{"POST", "/v1/workspaces/acme/tokens/{}:reveal"},
	{"DELETE", "/v1/workspaces/acme/tokens/{}"},
	{"POST", "/v1/tokens:validate"},
	{"POST", "/v1/access:check"},
	{"GET", "/api/v1/tokens/{}/info"},
	{"PATCH", "/api/v1/tokens/{}/refresh"},
	{"POST", "/api/v1/tokens-seed/pick"},
	{"GET", "/v1/admin/backup"},
}

const fuzzAdmin = "tkas_fuzz-admin"

// FuzzGateway sends arbitrary bodies, path segments and query strings
// through the real REST handler and the real services over a real store:
// no answer may be a 5xx, and every answer must be JSON (an error one with
// "code" and "detail"), except the backup's binary snapshot.
func FuzzGateway(f *testing.F) {
	dir := f.TempDir()
	store, err := bbolt.Open(filepath.Join(dir, "tokenauthority.db"), bbolt.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	key, err := seal.LoadOrCreateKey(filepath.Join(dir, "master.key"))
	if err != nil {
		f.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		f.Fatal(err)
	}
	creds, err := credential.Parse([]byte(`{"credentials":[{"name":"fuzz","role":"admin","sha256":"` + credential.HashHex(fuzzAdmin) + `"}]}`))
	if err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Config{Store: store, Box: box, Credentials: creds, Reveal: true, Logger: slog.New(slog.DiscardHandler)})
	h, err := rest.New(f.Context(), rest.Config{Backup: srv.Backup}, srv.Tokens(), srv.Workspaces(), srv.Self())
	if err != nil {
		f.Fatal(err)
	}
	// A workspace with a member and a zoo, so that bodies reach deeper code.
	for _, setup := range []struct{ path, body string }{
		{"/v1/workspaces", `{"workspace_id":"acme"}`},
		{"/v1/workspaces/acme/members", `{"user_id":"alice"}`},
		{"/v1/workspaces/acme/zoos", `{"zoo_id":"pub","visibility":"VISIBILITY_PUBLIC"}`},
	} {
		rec := serve(h, "POST", setup.path, fuzzAdmin, setup.body)
		if rec.Code != http.StatusOK {
			f.Fatalf("setup POST %s = %d %s", setup.path, rec.Code, rec.Body)
		}
	}

	for i := range fuzzRoutes {
		f.Add(uint8(i), "acme", "", `{}`)
	}
	f.Add(uint8(0), "", "", `{"workspace_id":"beta","display_name":"Beta"}`)
	f.Add(uint8(8), "", "", `{"user_id":"alice","description":"x","expire_time":"2099-01-01T00:00:00Z","seed":"0123456789abcdef0123"}`)
	f.Add(uint8(8), "", "", `{"user_id":"alice","expire_time":"0001-01-01T00:00:00Z"}`)
	f.Add(uint8(13), "", "", `{"secret":"tka_`+strings.Repeat("A", 40)+`"}`)
	f.Add(uint8(14), "", "", `{"secret":"x","zoo":"acme/pub","operation":"OPERATION_CLOUD_INFERENCE"}`)
	f.Add(uint8(7), "pub", "update_mask=visibility", `{"visibility":7}`)
	f.Add(uint8(2), "", "page_size=-1&page_token=%ff", ``)
	f.Add(uint8(0), "", "", `{"workspace_id":1e999}`)
	f.Add(uint8(0), "", "", "\xff\xfe")
	f.Add(uint8(16), "tka_x", "", ``)

	f.Fuzz(func(t *testing.T, route uint8, segment, query, body string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.ReplaceAll(r.path, "{}", url.PathEscape(segment))
		if query != "" {
			path += "?" + query
		}
		rec := serve(h, r.method, path, fuzzAdmin, body)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q = %d %s", r.method, path, body, rec.Code, rec.Body)
		}
		if r.path == "/v1/admin/backup" && rec.Code == http.StatusOK {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %s with %q = %d, body not a JSON object: %q", r.method, path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			if _, ok := m["code"]; !ok {
				t.Fatalf("%s %s = %d without \"code\": %s", r.method, path, rec.Code, rec.Body)
			}
			if d, _ := m["detail"].(string); d == "" {
				t.Fatalf("%s %s = %d without \"detail\": %s", r.method, path, rec.Code, rec.Body)
			}
		}
	})
}

func serve(h http.Handler, method, target, bearer, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://authority.test/", strings.NewReader(body))
	// The target is set after parsing so that any bytes reach the router,
	// as they would from a raw HTTP client.
	if u, err := url.ParseRequestURI(target); err == nil {
		req.URL = u
		req.RequestURI = target
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
