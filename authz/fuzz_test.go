package authz_test

import (
	"net/url"
	"strings"
	"testing"

	"tokenauthority/access"
	"tokenauthority/authz"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// FuzzMatch checks that the rule matcher never panics, never grants a path
// with dot or empty segments, never captures a name that cannot be an id,
// and ignores the query. Seeds are in testdata/fuzz/FuzzMatch.
func FuzzMatch(f *testing.F) {
	rs := authz.MustDefaultRules()
	f.Add("GET", "/zoo/v1/public/models/acme/pub/model.bin")
	f.Fuzz(func(t *testing.T, method, uri string) {
		got, err := rs.Match(method, uri)
		if err != nil {
			if got != (authz.Target{}) {
				t.Fatalf("Match(%q) = %+v with error %v; want the zero target", uri, got, err)
			}
			return
		}
		if !access.ValidID(got.WorkspaceID) || !access.ValidID(got.ZooID) {
			t.Fatalf("Match(%q) captured %q/%q, which cannot be ids", uri, got.WorkspaceID, got.ZooID)
		}
		if got.Operation != pb.Operation_OPERATION_DOWNLOAD && got.Operation != pb.Operation_OPERATION_CLOUD_INFERENCE {
			t.Fatalf("Match(%q) operation %v", uri, got.Operation)
		}
		path, _, _ := strings.Cut(uri, "?")
		path, _, _ = strings.Cut(path, "#")
		segs := strings.Split(strings.TrimSuffix(path, "/"), "/")[1:]
		for _, seg := range segs {
			dec, err := url.PathUnescape(seg)
			if err != nil || dec == "" || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
				t.Fatalf("Match(%q) = %+v; a path with segment %q must be refused", uri, got, seg)
			}
		}
		if len(uri) > authz.MaxURILen {
			t.Fatalf("Match accepted a %d-byte URI", len(uri))
		}
		if !strings.ContainsAny(uri, "?#") && len(uri)+8 <= authz.MaxURILen {
			again, err := rs.Match(method, uri+"?a=/b/../")
			if err != nil || again != got {
				t.Fatalf("Match(%q+query) = %+v, %v; want %+v as without the query", uri, again, err, got)
			}
		}
	})
}
