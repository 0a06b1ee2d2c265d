package server

import "time"

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

// recordUse reports a valid verdict's token as used at now.
func (s *Server) recordUse(v verdict, now time.Time) {
	if v.valid() {
		s.usage.Seen(v.rec.GetToken().GetTokenId(), now)
	}
}
