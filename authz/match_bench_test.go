package authz_test

import (
	"testing"

	"tokenauthority/authz"
)

// BenchmarkMatch measures the path rules alone on the paths a gateway
// sends most: a model file download with a query, and a cloud inference
// call. It must not allocate (TestMatchAllocates holds that).
func BenchmarkMatch(b *testing.B) {
	rs := authz.MustDefaultRules()
	for _, bc := range []struct{ name, method, uri string }{
		{"download", "GET", "/zoo/v1/public/models/acme/pub/org/model/resolve/main/model-00001-of-00002.safetensors?download=true"},
		{"inference", "POST", "/zoo/v1/inference/acme/priv/v1/chat/completions"},
		{"encoded", "GET", "/zoo/v1/public/models/acme/pub/my%20model%281%29.bin"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rs.Match(bc.method, bc.uri); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
