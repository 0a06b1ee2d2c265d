package credential_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/credential"
)

func TestParse(t *testing.T) {
	t.Parallel()
	secret := "tkas_zoo-service-secret"
	good := `{"credentials":[{"name":"zoo","role":"validator","sha256":"` + credential.HashHex(secret) + `"},
	{"name":"web","role":"admin","sha256":"` + credential.HashHex("other") + `"}]}`
	set, err := credential.Parse([]byte(good))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, ok := set.Lookup(secret); !ok || got != (credential.Entry{Name: "zoo", Role: credential.RoleValidator}) {
		t.Errorf("Lookup(secret) = %+v, %v; want zoo validator", got, ok)
	}
	for _, bad := range []string{"", secret + "x", credential.HashHex(secret)} {
		if _, ok := set.Lookup(bad); ok {
			t.Errorf("Lookup(%q) found an entry; want none", bad)
		}
	}
	if set.Len() != 2 {
		t.Errorf("Len = %d, want 2", set.Len())
	}

	h := credential.HashHex("x")
	tests := []struct{ name, body, want string }{
		{"not json", `{`, "invalid credentials file"},
		{"unknown field", `{"credentials":[],"extra":1}`, "unknown field"},
		{"trailing data", `{"credentials":[{"name":"a","role":"admin","sha256":"` + h + `"}]} {}`, "data after"},
		{"empty", `{"credentials":[]}`, "no credentials"},
		{"no name", `{"credentials":[{"role":"admin","sha256":"` + h + `"}]}`, "has no name"},
		{"bad role", `{"credentials":[{"name":"a","role":"root","sha256":"` + h + `"}]}`, `role "root"`},
		{"bad hash", `{"credentials":[{"name":"a","role":"admin","sha256":"abc"}]}`, "64 hex digits"},
		{"duplicate", `{"credentials":[{"name":"a","role":"admin","sha256":"` + h + `"},{"name":"b","role":"admin","sha256":"` + h + `"}]}`, "repeats"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := credential.Parse([]byte(tc.body))
			if !errors.Is(err, credential.ErrInvalidFile) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%s) = %v; want ErrInvalidFile mentioning %q", tc.body, err, tc.want)
			}
		})
	}
}

func TestRoleAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need credential.Role
		want       bool
	}{
		{credential.RoleAdmin, credential.RoleAdmin, true},
		{credential.RoleAdmin, credential.RoleValidator, true},
		{credential.RoleValidator, credential.RoleValidator, true},
		{credential.RoleValidator, credential.RoleAdmin, false},
	}
	for _, tc := range tests {
		if got := tc.have.Allows(tc.need); got != tc.want {
			t.Errorf("%s.Allows(%s) = %v, want %v", tc.have, tc.need, got, tc.want)
		}
	}
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	set, path, created, err := credential.Bootstrap(dir)
	if err != nil || !created {
		t.Fatalf("first Bootstrap = %v, created %v; want a new file", err, created)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want 0600", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(data))
	if !strings.HasPrefix(secret, credential.Prefix) || strings.Count(string(data), "\n") != 1 {
		t.Errorf("file holds %q; want one line starting with %q", data, credential.Prefix)
	}
	if e, ok := set.Lookup(secret); !ok || e.Role != credential.RoleAdmin {
		t.Errorf("Lookup(bootstrap secret) = %+v, %v; want admin", e, ok)
	}

	again, _, created, err := credential.Bootstrap(dir)
	if err != nil || created {
		t.Fatalf("second Bootstrap = %v, created %v; want the existing file", err, created)
	}
	if _, ok := again.Lookup(secret); !ok {
		t.Error("second Bootstrap does not know the first secret")
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := credential.Bootstrap(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Bootstrap with a world-readable file = %v; want a refusal", err)
	}
}

func TestClientIdentity(t *testing.T) {
	t.Parallel()
	set, err := credential.Parse([]byte(`{"credentials":[
		{"name":"gateway","role":"validator","client_identity":"spiffe://hub.example/gateway"},
		{"name":"web","role":"admin","client_identity":"Web.Hub.Internal","sha256":"` + credential.HashHex("web-secret") + `"}]}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	gateway := credential.Entry{Name: "gateway", Role: credential.RoleValidator}
	web := credential.Entry{Name: "web", Role: credential.RoleAdmin}
	tests := []struct {
		name   string
		ids    []string
		want   credential.Entry
		wantOK bool
	}{
		{"spiffe", []string{"spiffe://hub.example/gateway"}, gateway, true},
		{"dns, any case in the file", []string{"web.hub.internal"}, web, true},
		{"unbound first, bound second", []string{"spiffe://hub.example/other", "web.hub.internal"}, web, true},
		{"spiffe path differs", []string{"spiffe://hub.example/gateway/x"}, credential.Entry{}, false},
		{"two entries match", []string{"spiffe://hub.example/gateway", "web.hub.internal"}, credential.Entry{}, false},
		{"none", nil, credential.Entry{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := set.LookupIdentity(tt.ids)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("LookupIdentity(%q) = %+v, %v; want %+v, %v", tt.ids, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	if got, ok := set.Lookup("web-secret"); !ok || got != web {
		t.Errorf("Lookup(web secret) = %+v, %v; want web", got, ok)
	}
	if set.Len() != 2 {
		t.Errorf("Len = %d; want 2", set.Len())
	}

	for _, tc := range []struct{ name, id, want string }{
		{"neither", ``, "neither a sha256 nor a client_identity"},
		{"http uri", `https://hub.example/x`, "SPIFFE ID"},
		{"spiffe without host", `spiffe:///x`, "SPIFFE ID"},
		{"not a dns name", `web hub`, "not a DNS name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := credential.Parse([]byte(`{"credentials":[{"name":"a","role":"admin","client_identity":"` + tc.id + `"}]}`))
			if !errors.Is(err, credential.ErrInvalidFile) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(client_identity %q) = %v; want ErrInvalidFile mentioning %q", tc.id, err, tc.want)
			}
		})
	}
	dup := `{"credentials":[{"name":"a","role":"admin","client_identity":"a.example"},{"name":"b","role":"validator","client_identity":"A.example"}]}`
	if _, err := credential.Parse([]byte(dup)); !errors.Is(err, credential.ErrInvalidFile) {
		t.Errorf("Parse of a repeated client_identity = %v; want ErrInvalidFile", err)
	}
}
