package etcd

import (
	"context"
	"errors"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

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
