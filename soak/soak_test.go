package soak_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

var duration = flag.Duration("soak.duration", envDuration("TOKENAUTHORITY_SOAK_DURATION", 60*time.Second), "how long the soak runs")

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			panic(fmt.Sprintf("%s=%q: %v", name, v, err))
		}
		return d
	}
	return def
}

// ops counts what the soak did, per kind.
type ops struct {
	validate, create, revoke, refresh, roll atomic.Int64
}

func (o *ops) total() int64 {
	return o.validate.Load() + o.create.Load() + o.revoke.Load() + o.refresh.Load() + o.roll.Load()
}

// caller is one transport's way to do each operation.
type caller interface {
	create(ctx context.Context) (id, secret string, err error)
	validate(ctx context.Context, secret string) (valid bool, id string, err error)
	revoke(ctx context.Context, id string) error
	refresh(ctx context.Context, secret string) (string, error)
	// roll replaces a token by a new one (RollToken) with no grace.
	roll(ctx context.Context, id string) (newID, secret string, err error)
}

func TestSoak(t *testing.T) {
	// The soak drives many SDK refreshes from one address; the per-address
	// limit would refuse most of them, and the limiter has its own tests.
	d := teststack.StartDaemon(t, func(c *daemon.Config) { c.RateLimit = 0 })
	admin := d.Admin
	conn := d.Conn()
	g := &grpcCaller{
		ctx:    d.AsAdmin,
		tokens: pb.NewTokenServiceClient(conn),
		self:   pb.NewSelfServiceClient(conn),
	}
	ctx := g.ctx(t.Context())
	ws := pb.NewWorkspaceServiceClient(conn)
	teststack.Members(t, ctx, ws, "acme", "alice")
	const workersPerTransport = 4
	transport := &http.Transport{MaxIdleConnsPerHost: workersPerTransport}
	r := &restCaller{base: d.URL(), admin: admin, http: &http.Client{Transport: transport, Timeout: 30 * time.Second}}

	// Warm up both transports so that the baseline includes connected
	// clients and the runtime's lazily started goroutines.
	var counts ops
	runLoad(t, []caller{g, r}, workersPerTransport, 2*time.Second, &counts)
	transport.CloseIdleConnections()
	baseG, baseHeap := settle()
	baseIndex := d.IndexBytes()
	t.Logf("baseline: %d goroutines, %.1f MiB heap in use, of which the validation index %.1f MiB", baseG, mib(baseHeap), mib(uint64(baseIndex)))

	counts = ops{}
	start := time.Now()
	runLoad(t, []caller{g, r}, workersPerTransport, *duration, &counts)
	elapsed := time.Since(start)
	peakG := runtime.NumGoroutine()
	transport.CloseIdleConnections()
	t.Logf("soak: %v, %d requests (%.0f/s): %d validate, %d create, %d revoke, %d refresh, %d roll; goroutines at the end of load %d",
		elapsed.Round(time.Millisecond), counts.total(), float64(counts.total())/elapsed.Seconds(),
		counts.validate.Load(), counts.create.Load(), counts.revoke.Load(), counts.refresh.Load(), counts.roll.Load(), peakG)
	if counts.roll.Load() == 0 {
		t.Errorf("the soak rolled no token")
	}
	if t.Failed() {
		return
	}

	// Goroutines and heap come back: allow a few goroutines for timers and
	// connections still closing, and heap growth that a bounded cache
	// (metrics, bbolt's freelist) explains, not one per request.
	var afterG int
	var afterHeap uint64
	deadline := time.Now().Add(10 * time.Second)
	for {
		afterG, afterHeap = settle()
		if afterG <= baseG+5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after: %d goroutines (baseline %d), %.1f MiB heap in use (baseline %.1f MiB)", afterG, baseG, mib(afterHeap), mib(baseHeap))
	if afterG > baseG+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines did not come back: %d after, %d before\n%s", afterG, baseG, buf[:runtime.Stack(buf, true)])
	}
	// The per-token refresh limiter keeps one small bucket per refreshed
	// token until a later sweep finds it refilled (bounded by
	// ratelimit.DefaultMaxKeys), and the store's validation index holds
	// every stored token (create, refresh and roll each store one) in
	// records appended to 32 MiB chunks, so it grows in steps: allow for
	// what the index reports it grew by, a little per stored token for the
	// rest (last-used times), and nothing per request.
	const refreshBucketBytes = 256
	const otherBytesPerToken = 128
	stored := uint64(counts.create.Load() + counts.refresh.Load() + counts.roll.Load())
	indexGrowth := uint64(max(d.IndexBytes()-baseIndex, 0))
	t.Logf("the validation index grew by %.1f MiB for %d stored tokens", mib(indexGrowth), stored)
	if limit := baseHeap + max(baseHeap/2, 4<<20) + uint64(counts.refresh.Load())*refreshBucketBytes + indexGrowth + stored*otherBytesPerToken; afterHeap > limit {
		t.Errorf("heap did not come back: %.1f MiB after, %.1f MiB before (limit %.1f MiB)", mib(afterHeap), mib(baseHeap), mib(limit))
	}
	if err := d.Stop(); err != nil {
		t.Errorf("Shutdown after the soak: %v", err)
	}
}

// runLoad runs workers per caller for d; every error fails the test.
func runLoad(t *testing.T, callers []caller, workers int, d time.Duration, counts *ops) {
	t.Helper()
	// Stop by cancelling, not by a deadline: gRPC times a deadline itself and
	// can fail a call before ctx reports it, which would look like an error.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stop := time.AfterFunc(d, cancel)
	defer stop.Stop()
	var wg sync.WaitGroup
	var failures atomic.Int64
	for ci, c := range callers {
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := work(ctx, c, rand.New(rand.NewPCG(uint64(ci), uint64(w))), counts); err != nil && ctx.Err() == nil {
					if failures.Add(1) <= 5 {
						t.Errorf("%T worker %d: %v", c, w, err)
					}
				}
			}()
		}
	}
	wg.Wait()
}

// live is a token a worker created and has not revoked.
type live struct{ id, secret string }

// work runs the mix until ctx ends: roughly 60% validate, 15% create, 10%
// refresh, 7% roll, 8% revoke, keeping at most 50 live tokens per worker. A
// token being validated must be valid: the worker alone revokes and rolls
// its tokens. A roll has no grace, so the old secret must be refused at once
// while the new one works.
func work(ctx context.Context, c caller, rng *rand.Rand, counts *ops) error {
	var tokens []live
	for ctx.Err() == nil {
		n := rng.IntN(100)
		switch {
		case len(tokens) == 0 || n < 15 && len(tokens) < 50:
			id, secret, err := c.create(ctx)
			if err != nil {
				return fmt.Errorf("create: %w", err)
			}
			tokens = append(tokens, live{id, secret})
			counts.create.Add(1)
		case n < 75:
			tok := tokens[rng.IntN(len(tokens))]
			valid, _, err := c.validate(ctx, tok.secret)
			if err != nil {
				return fmt.Errorf("validate: %w", err)
			}
			if !valid {
				return fmt.Errorf("validate: a live token %s is not valid", tok.id)
			}
			counts.validate.Add(1)
		case n < 85:
			i := rng.IntN(len(tokens))
			next, err := c.refresh(ctx, tokens[i].secret)
			if err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
			valid, id, err := c.validate(ctx, next)
			if err != nil || !valid {
				return fmt.Errorf("validate a refreshed token: valid=%v, %v", valid, err)
			}
			tokens[i] = live{id, next}
			counts.refresh.Add(1)
			counts.validate.Add(1)
		case n < 92:
			i := rng.IntN(len(tokens))
			id, next, err := c.roll(ctx, tokens[i].id)
			if err != nil {
				return fmt.Errorf("roll: %w", err)
			}
			if valid, _, err := c.validate(ctx, tokens[i].secret); err != nil || valid {
				return fmt.Errorf("validate a token rolled with no grace: valid=%v, %v", valid, err)
			}
			if valid, got, err := c.validate(ctx, next); err != nil || !valid || got != id {
				return fmt.Errorf("validate a rolled token: valid=%v, id %s (want %s), %v", valid, got, id, err)
			}
			tokens[i] = live{id, next}
			counts.roll.Add(1)
			counts.validate.Add(2)
		default:
			i := rng.IntN(len(tokens))
			if err := c.revoke(ctx, tokens[i].id); err != nil {
				return fmt.Errorf("revoke: %w", err)
			}
			tokens = append(tokens[:i], tokens[i+1:]...)
			counts.revoke.Add(1)
		}
	}
	return nil
}

// settle collects garbage and returns the goroutine count and heap in use.
func settle() (int, uint64) {
	var m runtime.MemStats
	for i := 0; i < 3; i++ {
		runtime.GC()
		// Deliberately let finalizers and exiting goroutines run.
		time.Sleep(50 * time.Millisecond)
	}
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

type grpcCaller struct {
	ctx    func(context.Context) context.Context
	tokens pb.TokenServiceClient
	self   pb.SelfServiceClient
}

func (g *grpcCaller) create(ctx context.Context) (string, string, error) {
	r, err := g.tokens.CreateToken(g.ctx(ctx), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "soak"})
	return r.GetToken().GetTokenId(), r.GetSecret(), err
}

func (g *grpcCaller) validate(ctx context.Context, secret string) (bool, string, error) {
	r, err := g.tokens.ValidateToken(g.ctx(ctx), &pb.ValidateTokenRequest{Secret: secret})
	return r.GetValid(), r.GetToken().GetTokenId(), err
}

func (g *grpcCaller) revoke(ctx context.Context, id string) error {
	_, err := g.tokens.RevokeToken(g.ctx(ctx), &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: id})
	return err
}

func (g *grpcCaller) refresh(ctx context.Context, secret string) (string, error) {
	r, err := g.self.RefreshToken(ctx, &pb.RefreshTokenRequest{Token: secret})
	return r.GetValue(), err
}

func (g *grpcCaller) roll(ctx context.Context, id string) (string, string, error) {
	r, err := g.tokens.RollToken(g.ctx(ctx), &pb.RollTokenRequest{WorkspaceId: "acme", TokenId: id, Grace: durationpb.New(0)})
	return r.GetToken().GetTokenId(), r.GetSecret(), err
}

type restCaller struct {
	base, admin string
	http        *http.Client
}

func (r *restCaller) do(ctx context.Context, method, path, body string, auth bool, out any) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+r.admin)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, strings.SplitN(path, "tka_", 2)[0], resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

func (r *restCaller) create(ctx context.Context) (string, string, error) {
	var out struct {
		Token struct {
			TokenID string `json:"token_id"`
		} `json:"token"`
		Secret string `json:"secret"`
	}
	err := r.do(ctx, "POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"soak"}`, true, &out)
	return out.Token.TokenID, out.Secret, err
}

func (r *restCaller) validate(ctx context.Context, secret string) (bool, string, error) {
	var out struct {
		Valid bool `json:"valid"`
		Token struct {
			TokenID string `json:"token_id"`
		} `json:"token"`
	}
	err := r.do(ctx, "POST", "/v1/tokens:validate", `{"secret":"`+secret+`"}`, true, &out)
	return out.Valid, out.Token.TokenID, err
}

func (r *restCaller) revoke(ctx context.Context, id string) error {
	var out map[string]any
	return r.do(ctx, "DELETE", "/v1/workspaces/acme/tokens/"+id, "", true, &out)
}

func (r *restCaller) refresh(ctx context.Context, secret string) (string, error) {
	var out struct {
		Value string `json:"value"`
	}
	err := r.do(ctx, "PATCH", "/api/v1/tokens/"+secret+"/refresh", "", false, &out)
	return out.Value, err
}

func (r *restCaller) roll(ctx context.Context, id string) (string, string, error) {
	var out struct {
		Token struct {
			TokenID string `json:"token_id"`
		} `json:"token"`
		Secret string `json:"secret"`
	}
	err := r.do(ctx, "POST", "/v1/workspaces/acme/tokens/"+id+":roll", `{"grace":"0s"}`, true, &out)
	return out.Token.TokenID, out.Secret, err
}
