package credential_test

import (
	"errors"
	"testing"

	"tokenauthority/credential"
)

// FuzzParse feeds the credentials file parser arbitrary bytes: it must
// never panic, must refuse with ErrInvalidFile only, and a file it accepts
// holds at least one credential, each reachable by what the file binds.
func FuzzParse(f *testing.F) {
	h := credential.HashHex("secret")
	for _, s := range []string{
		`{"credentials":[{"name":"zoo","role":"validator","sha256":"` + h + `"}]}`,
		`{"credentials":[{"name":"gw","role":"validator","client_identity":"spiffe://hub.example/gw"}]}`,
		`{"credentials":[{"name":"web","role":"admin","client_identity":"Web.Hub.Example","sha256":"` + h + `"}]}`,
		`{"credentials":[]}`, `{`, `null`, `[]`, `{"credentials":null}`,
		`{"credentials":[{"name":"a","role":"admin","client_identity":"spiffe://x:1/y"}]}`,
		`{"credentials":[{"name":"a","role":"admin","sha256":"` + h + `"}]} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := credential.Parse(data)
		if err != nil {
			if !errors.Is(err, credential.ErrInvalidFile) {
				t.Fatalf("Parse error %v does not wrap ErrInvalidFile", err)
			}
			return
		}
		if set.Len() == 0 {
			t.Fatal("Parse accepted a file with no credentials")
		}
		if _, ok := set.Lookup(""); ok {
			t.Fatal("the empty secret found an entry")
		}
		if _, ok := set.LookupIdentity(nil); ok {
			t.Fatal("no identity found an entry")
		}
	})
}
