package authz

import (
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestEnvoyTargetFromExtensions reads the target a route's
// context_extensions name, with the zoo under the id rule
// (access.ParseZoo).
func TestEnvoyTargetFromExtensions(t *testing.T) {
	t.Parallel()
	var g Gateway
	tests := []struct {
		name   string
		zoo    string
		want   Target
		refuse bool
	}{
		{"zoo", "acme/pub", Target{WorkspaceID: "acme", ZooID: "pub", Operation: pb.Operation_OPERATION_DOWNLOAD}, false},
		{"no slash", "acme", Target{}, true},
		{"three parts", "acme/pub/x", Target{}, true},
		{"empty zoo part", "acme/", Target{}, true},
		{"upper case", "Acme/pub", Target{}, true},
		{"trailing hyphen", "acme/pub-", Target{}, true},
		{"dot dot", "acme/..", Target{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ext := map[string]string{ExtensionZoo: tt.zoo, ExtensionOperation: "download"}
			got, o := g.envoyTarget(ext, nil)
			if (o != nil) != tt.refuse {
				t.Fatalf("envoyTarget(%q) refused = %v, want %v", tt.zoo, o, tt.refuse)
			}
			if got != tt.want {
				t.Errorf("envoyTarget(%q) = %+v, want %+v", tt.zoo, got, tt.want)
			}
		})
	}
}

// TestEnvoyTargetAllocates nothing for a route's context_extensions.
func TestEnvoyTargetAllocates(t *testing.T) {
	var g Gateway
	ext := map[string]string{ExtensionZoo: "acme/pub", ExtensionOperation: "cloud_inference"}
	allocs := testing.AllocsPerRun(100, func() {
		if _, o := g.envoyTarget(ext, nil); o != nil {
			t.Fatal(o.detail)
		}
	})
	if allocs != 0 {
		t.Errorf("envoyTarget allocates %v times, want 0", allocs)
	}
}

// BenchmarkEnvoyTarget reads a target from context_extensions, the part of
// an Envoy check that BenchmarkEntryPoints's loopback noise hides.
func BenchmarkEnvoyTarget(b *testing.B) {
	var g Gateway
	ext := map[string]string{ExtensionZoo: "acme/detectors", ExtensionOperation: "cloud_inference"}
	b.ReportAllocs()
	for b.Loop() {
		if _, o := g.envoyTarget(ext, nil); o != nil {
			b.Fatal(o.detail)
		}
	}
}
