package server_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestGetSeedPollers: the page learns who polled a seed in the last minute,
// and only with the page's credential.
func TestGetSeedPollers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seed := teststack.NewSeed(t)
	ask := func() (*pb.GetSeedPollersResponse, error) {
		return e.tokens.GetSeedPollers(admin(t), &pb.GetSeedPollersRequest{Seed: seed})
	}
	got, err := ask()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.GetPollerAddresses()) != 0 || got.GetClientAddress() != "127.0.0.1" {
		t.Errorf("before any poll = %v; want no pollers and the caller 127.0.0.1", got)
	}

	_, err = e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: seed})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("pick before the token exists: %v; want NotFound", err)
	}
	if got, err = ask(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.GetPollerAddresses(), []string{"127.0.0.1"}) {
		t.Errorf("after a poll = %v; want the poller 127.0.0.1", got)
	}
	e.clock.Advance(61 * time.Second)
	if got, err = ask(); err != nil {
		t.Fatal(err)
	}
	if len(got.GetPollerAddresses()) != 0 {
		t.Errorf("a minute after the last poll = %v; want nobody", got)
	}

	// An outsider, a validator and a malformed seed get nothing.
	for _, tc := range []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"anonymous", func() error {
			_, err := e.tokens.GetSeedPollers(t.Context(), &pb.GetSeedPollersRequest{Seed: seed})
			return err
		}, codes.Unauthenticated},
		{"validator", func() error {
			_, err := e.tokens.GetSeedPollers(validator(t), &pb.GetSeedPollersRequest{Seed: seed})
			return err
		}, codes.PermissionDenied},
		{"short seed", func() error {
			_, err := e.tokens.GetSeedPollers(admin(t), &pb.GetSeedPollersRequest{Seed: "abc"})
			return err
		}, codes.InvalidArgument},
		{"seed outside the alphabet", func() error {
			_, err := e.tokens.GetSeedPollers(admin(t), &pb.GetSeedPollersRequest{Seed: seed[:40] + "<a>"})
			return err
		}, codes.InvalidArgument},
	} {
		if err := tc.call(); status.Code(err) != tc.want {
			t.Errorf("%s: %v; want %v", tc.name, err, tc.want)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, seed) {
		t.Errorf("the seed reached the log")
	}
}
