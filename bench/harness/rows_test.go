package main

import (
	"slices"
	"testing"
)

func TestSelectRows(t *testing.T) {
	t.Parallel()
	all := []row{{name: "gRPC ValidateToken, c=50"}, {name: "gateway ext_authz Check, c=50"}, {name: "gateway GET /v1/authz, c=50"}}
	for _, tc := range []struct {
		name    string
		terms   []string
		want    []string
		wantErr bool
	}{
		{name: "no terms keeps every row", want: []string{"gRPC ValidateToken, c=50", "gateway ext_authz Check, c=50", "gateway GET /v1/authz, c=50"}},
		{name: "one term", terms: []string{"ext_authz"}, want: []string{"gateway ext_authz Check, c=50"}},
		{name: "a term matches several rows, in their order", terms: []string{"gateway"}, want: []string{"gateway ext_authz Check, c=50", "gateway GET /v1/authz, c=50"}},
		{name: "two terms", terms: []string{"/v1/authz", "validatetoken"}, want: []string{"gRPC ValidateToken, c=50", "gateway GET /v1/authz, c=50"}},
		{name: "a term naming no row is an error", terms: []string{"ext_authz", "typo"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := selectRows(all, tc.terms)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("selectRows(%q) = %d rows, want an error", tc.terms, len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range got {
				names = append(names, r.name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("selectRows(%q) = %q, want %q", tc.terms, names, tc.want)
			}
		})
	}
}
