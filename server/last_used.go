package server

import (
	"context"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// UsageRecorder is told of every successful use of a token: a valid
// ValidateToken, CheckAccess or gateway decision with a valid token, or an
// authenticated SDK call. Seen is called on the request path for every such
// use, so it must be cheap and must not write to disk (usage.Recorder keeps
// uses in memory and writes them in the background).
type UsageRecorder interface {
	Seen(tokenID string, at time.Time)
}

type noUsage struct{}

func (noUsage) Seen(string, time.Time) {}

// recordUse reports a token as used at at; access calls it for every
// successful use.
func (s *Server) recordUse(_ context.Context, t *pb.Token, at time.Time) {
	s.usage.Seen(t.GetTokenId(), at)
}
