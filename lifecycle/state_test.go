package lifecycle_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

func TestState(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(d)) }
	tests := []struct {
		name        string
		tok         *pb.Token
		want        pb.TokenState
		wantRevoked bool
	}{
		{"never expires", &pb.Token{}, pb.TokenState_TOKEN_STATE_ACTIVE, false},
		{"expires later", &pb.Token{ExpireTime: at(time.Second)}, pb.TokenState_TOKEN_STATE_ACTIVE, false},
		{"expires now", &pb.Token{ExpireTime: at(0)}, pb.TokenState_TOKEN_STATE_EXPIRED, false},
		{"expired", &pb.Token{ExpireTime: at(-time.Hour)}, pb.TokenState_TOKEN_STATE_EXPIRED, false},
		{"revoke scheduled", &pb.Token{RevokeTime: at(time.Nanosecond)}, pb.TokenState_TOKEN_STATE_ACTIVE, false},
		{"revoked now", &pb.Token{RevokeTime: at(0)}, pb.TokenState_TOKEN_STATE_REVOKED, true},
		{"revoked and expired", &pb.Token{RevokeTime: at(-time.Hour), ExpireTime: at(-2 * time.Hour)}, pb.TokenState_TOKEN_STATE_REVOKED, true},
		{"grace outlives expiry", &pb.Token{RevokeTime: at(time.Hour), ExpireTime: at(-time.Hour)}, pb.TokenState_TOKEN_STATE_EXPIRED, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := lifecycle.State(tt.tok, now); got != tt.want {
				t.Errorf("State = %v, want %v", got, tt.want)
			}
			if got := lifecycle.RevokedBy(tt.tok, now); got != tt.wantRevoked {
				t.Errorf("RevokedBy = %v, want %v", got, tt.wantRevoked)
			}
		})
	}
}
