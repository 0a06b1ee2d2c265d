package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/server"
	"tokenauthority/usage"
)

// writeLog is the real store as the recorder's writer, noting when (by the
// test clock) each token was written.
type writeLog struct {
	usage.Writer
	now func() time.Time
	mu  sync.Mutex
	at  map[string][]time.Time
}

func (w *writeLog) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	n, err := w.Writer.RecordUses(ctx, uses)
	if err == nil {
		w.mu.Lock()
		for id := range uses {
			w.at[id] = append(w.at[id], w.now())
		}
		w.mu.Unlock()
	}
	return n, err
}

// withUsage wires a usage.Recorder on the env's store and clock.
func withUsage(r **usage.Recorder, log **writeLog) envOption {
	return func(c *server.Config) {
		*log = &writeLog{Writer: c.Store, now: c.Now, at: map[string][]time.Time{}}
		*r = usage.New(*log, usage.Options{Interval: time.Minute, Now: c.Now})
		c.Usage = *r
	}
}

// TestValidationWritesNothing: every kind of successful use is recorded,
// none of them commits anything; one flush writes them all in one commit.
func TestValidationWritesNothing(t *testing.T) {
	t.Parallel()
	var rec *usage.Recorder
	var log *writeLog
	e := newEnv(t, withUsage(&rec, &log))
	e.workspace(t, "acme", []string{"alice"}, map[string]pb.Visibility{"priv": private})
	validated, vSecret := e.token(t, "acme", "alice", nil)
	checked, cSecret := e.token(t, "acme", "alice", nil)
	selfish, sSecret := e.token(t, "acme", "alice", nil)
	unused, uSecret := e.token(t, "acme", "alice", nil)
	if _, err := e.tokens.RevokeToken(admin(t), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: unused.GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	usedAt := e.clock.Now()

	before := e.commits.Load()
	for range 50 {
		v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: vSecret})
		if err != nil || !v.GetValid() {
			t.Fatalf("ValidateToken = %v, %v", v, err)
		}
		a, err := e.tokens.CheckAccess(validator(t), &pb.CheckAccessRequest{Secret: cSecret, Zoo: "acme/priv", Operation: cloud})
		if err != nil || !a.GetAllowed() {
			t.Fatalf("CheckAccess = %v, %v", a, err)
		}
		if _, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: sSecret}); err != nil {
			t.Fatalf("GetTokenInfo = %v", err)
		}
		v, err = e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: uSecret})
		if err != nil || v.GetValid() {
			t.Fatalf("ValidateToken(revoked) = %v, %v", v, err)
		}
	}
	if n := e.commits.Load() - before; n != 0 {
		t.Fatalf("200 validations, access checks and SDK calls made %d commits; want 0", n)
	}
	e.clock.Advance(time.Second)
	if n, err := rec.Flush(t.Context()); err != nil || n != 3 {
		t.Fatalf("Flush = %d, %v; want 3 tokens", n, err)
	}
	if n := e.commits.Load() - before; n != 1 {
		t.Errorf("the flush made %d commits; want 1", n)
	}
	for _, tok := range []*pb.Token{validated, checked, selfish} {
		got, err := e.tokens.GetToken(admin(t), &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: tok.GetTokenId()})
		if err != nil {
			t.Fatal(err)
		}
		if lu := got.GetToken().GetLastUsedTime(); lu == nil || !lu.AsTime().Equal(usedAt) {
			t.Errorf("token %s last_used_time = %v; want %v", tok.GetTokenId(), lu, usedAt)
		}
	}
	list, err := e.tokens.ListTokens(admin(t), &pb.ListTokensRequest{WorkspaceId: "acme", ShowRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list.GetTokens() {
		if lu := tok.GetLastUsedTime(); (tok.GetTokenId() == unused.GetTokenId()) != (lu == nil) {
			t.Errorf("listed token %s last_used_time = %v; only the revoked one should have none", tok.GetTokenId(), lu)
		}
	}
}

// TestLastUsedWrittenOncePerInterval: 10,000 validations of two tokens over
// 100 seconds of test clock, with a flush after every 100, write each
// token's last-used time only at least a minute apart.
func TestLastUsedWrittenOncePerInterval(t *testing.T) {
	t.Parallel()
	var rec *usage.Recorder
	var log *writeLog
	e := newEnv(t, withUsage(&rec, &log))
	e.workspace(t, "acme", []string{"alice"}, nil)
	a, aSecret := e.token(t, "acme", "alice", nil)
	b, bSecret := e.token(t, "acme", "alice", nil)
	secrets := []string{aSecret, bSecret}
	start := e.clock.Now()
	for round := range 100 {
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					v, err := e.tokens.ValidateToken(validator(t), &pb.ValidateTokenRequest{Secret: secrets[(w+i)%2]})
					if err != nil || !v.GetValid() {
						t.Errorf("round %d: ValidateToken = %v, %v", round, v, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		e.clock.Advance(time.Second)
		if _, err := rec.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := e.clock.Now().Sub(start)
	for _, tok := range []*pb.Token{a, b} {
		writes := log.at[tok.GetTokenId()]
		if max := int(elapsed/time.Minute) + 1; len(writes) == 0 || len(writes) > max {
			t.Errorf("token %s written %d times in %v; want 1 to %d", tok.GetTokenId(), len(writes), elapsed, max)
		}
		for i := 1; i < len(writes); i++ {
			if gap := writes[i].Sub(writes[i-1]); gap < time.Minute {
				t.Errorf("token %s written twice %v apart; want at least a minute", tok.GetTokenId(), gap)
			}
		}
	}
}
