package server_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/metrics"
	"tokenauthority/server"
)

// TestStoreErrorsCounted: a call the store cannot serve is answered
// Unavailable and counted in tokenauthority_store_errors_total, which the
// TokenAuthorityStoreErrors alert watches; a call it can serve is not.
func TestStoreErrorsCounted(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	s := teststack.Start(t, func(c *server.Config) { c.Metrics = m })
	ctx := teststack.As(context.Background(), teststack.AdminSecret)
	count := func() float64 {
		t.Helper()
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() != "tokenauthority_store_errors_total" {
				continue
			}
			for _, mt := range f.GetMetric() {
				for _, l := range mt.GetLabel() {
					if l.GetName() == "operation" && l.GetValue() == metrics.StoreOpRequest {
						return mt.GetCounter().GetValue()
					}
				}
			}
		}
		t.Fatal("no tokenauthority_store_errors_total{operation=\"request\"}")
		return 0
	}
	if _, err := s.Workspaces.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Fatalf("store errors after a served call = %v, want 0", got)
	}
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Workspaces.GetWorkspace(ctx, &pb.GetWorkspaceRequest{WorkspaceId: "acme"})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("GetWorkspace on a closed store: %v, want Unavailable", err)
	}
	if got := count(); got != 1 {
		t.Errorf("store errors after a call the store could not serve = %v, want 1", got)
	}
}
