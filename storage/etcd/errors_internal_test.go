package etcd

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/storage"
)

func TestUnavailableNamesWhatEtcdRefused(t *testing.T) {
	t.Parallel()
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want error
	}{
		{"request too large", context.Background(), rpctypes.ErrRequestTooLarge, storage.ErrTooLarge},
		{"too many operations", context.Background(), rpctypes.ErrTooManyOps, storage.ErrTooLarge},
		{"no leader", context.Background(), rpctypes.ErrNoLeader, storage.ErrUnavailable},
		{"deadline", expired, context.DeadlineExceeded, storage.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := unavailable(tc.ctx, tc.err); !errors.Is(got, tc.want) {
				t.Errorf("unavailable(%v) = %v; want it to wrap %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestTransientRead holds the errors that rerun an attempt instead of
// failing it: a member or leader gone, a connection lost, and no others.
func TestTransientRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"member stopped", rpctypes.ErrStopped, true},
		{"no leader", rpctypes.ErrNoLeader, true},
		{"leader changed", rpctypes.ErrLeaderChanged, true},
		{"timeout, connection lost", rpctypes.ErrTimeoutDueToConnectionLost, true},
		{"gRPC unavailable", status.Error(codes.Unavailable, "transport is closing"), true},
		{"connection refused", errors.New("dial tcp 127.0.0.1:2379: connect: connection refused"), true},
		{"permission denied", rpctypes.ErrPermissionDenied, false},
		{"request too large", rpctypes.ErrRequestTooLarge, false},
		{"compacted", rpctypes.ErrCompacted, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := transientRead(tc.err); got != tc.want {
				t.Errorf("transientRead(%v) = %v; want %v", tc.err, got, tc.want)
			}
		})
	}
}
