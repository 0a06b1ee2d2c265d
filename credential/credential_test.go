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
