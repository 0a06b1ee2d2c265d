package server_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/ratelimit"
	"tokenauthority/server"
)

func retryInfo(err error) *errdetails.RetryInfo {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri
		}
	}
	return nil
}

// TestClientRateLimit: the methods that need no service credential share
// one budget per client address; past it they answer ResourceExhausted
// with a RetryInfo detail (refused when the call's headers arrive, before
// its message is read, so there is no room for a retry-after header), and
// the methods behind a credential are not limited.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) {
		c.ClientLimiter = ratelimit.New(ratelimit.Config{Rate: 0.01, Burst: 3})
	})
	e.workspace(t, "acme", []string{"alice"}, nil)
	_, secret := e.token(t, "acme", "alice", nil)
	for i := range 3 {
		if _, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret}); err != nil {
			t.Fatalf("call %d within the burst: %v", i+1, err)
		}
	}
	calls := map[string]func(opts ...grpc.CallOption) error{
		"GetTokenInfo": func(opts ...grpc.CallOption) error {
			_, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: secret}, opts...)
			return err
		},
		"RefreshToken": func(opts ...grpc.CallOption) error {
			_, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret}, opts...)
			return err
		},
		"PickSeedToken": func(opts ...grpc.CallOption) error {
			_, err := e.self.PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: "qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE"}, opts...)
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("%s past the burst = %v; want ResourceExhausted", name, err)
			continue
		}
		if ri := retryInfo(err); ri == nil || ri.GetRetryDelay().AsDuration() <= 0 {
			t.Errorf("%s: RetryInfo = %v; want a positive delay", name, ri)
		}
	}
	// Credentialed methods are not limited.
	for range 10 {
		if _, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secret}); err != nil {
			t.Fatalf("ValidateToken after the public budget is spent: %v", err)
		}
	}
}

// TestRefreshRateLimitPerToken: one token cannot be refreshed again and
// again, whatever the client address.
func TestRefreshRateLimitPerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) {
		c.RefreshLimiter = ratelimit.New(ratelimit.Config{Rate: 0.01, Burst: 1})
	})
	e.workspace(t, "acme", []string{"alice"}, nil)
	_, secret := e.token(t, "acme", "alice", nil)
	resp, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: secret}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("second refresh of one token = %v; want ResourceExhausted", err)
	}
	// Another token has its own budget.
	if _, err := e.self.RefreshToken(t.Context(), &pb.RefreshTokenRequest{Token: resp.GetValue()}); err != nil {
		t.Errorf("refresh of the new token = %v", err)
	}
}
