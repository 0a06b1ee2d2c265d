package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/internal/teststack"
)

// replica is one tokenauthority daemon on the shared etcd cluster.
type replica struct {
	d      *teststack.Daemon
	conn   *grpc.ClientConn
	ws     pb.WorkspaceServiceClient
	tokens pb.TokenServiceClient
	self   pb.SelfServiceClient
}

// startReplicas starts n daemons with --store etcd on one prefix of c,
// sharing a master key and the bootstrap admin credential (the first
// replica's, copied into the others' data directories), and returns them
// with an admin context.
func startReplicas(t *testing.T, c *etcdtest.Cluster, n int, maxStale, writeTimeout time.Duration) ([]*replica, context.Context) {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	var admin []byte
	var out []*replica
	for i := range n {
		cfg := teststack.DaemonConfig(t)
		cfg.Store = "etcd"
		cfg.Etcd.Endpoints = c.Endpoints()
		cfg.Etcd.Prefix = "/replicas/"
		cfg.Etcd.MaxStaleness = maxStale
		cfg.Etcd.WriteTimeout = writeTimeout
		cfg.MasterKey = base64.StdEncoding.EncodeToString(key)
		if i > 0 {
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cfg.DataDir, "admin.credential"), admin, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		d := teststack.RunDaemon(t, cfg)
		conn := d.Conn()
		if i == 0 {
			admin = []byte(d.Admin)
		}
		out = append(out, &replica{d: d, conn: conn, ws: pb.NewWorkspaceServiceClient(conn),
			tokens: pb.NewTokenServiceClient(conn), self: pb.NewSelfServiceClient(conn)})
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+strings.TrimSpace(string(admin)))
	return out, ctx
}

func (r *replica) valid(ctx context.Context, t *testing.T, secret string) bool {
	t.Helper()
	v, err := r.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret})
	if err != nil {
		t.Fatalf("ValidateToken: %v", err)
	}
	return v.GetValid()
}

// until polls cond every millisecond and returns how long it took to hold,
// failing the test after limit.
func until(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

func readyz(t *testing.T, r *replica) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.d.HTTPAddr.String() + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestReplicasOnEtcd runs two replicas on a three-member cluster: what one
// writes the other validates, a revocation crosses within 100 ms, one member
// down changes nothing, a lost quorum fails writes with Unavailable while
// validation answers from the index until the staleness bound, and the
// quorum's return brings everything back.
func TestReplicasOnEtcd(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	const maxStale = time.Second
	began := time.Now()
	rs, ctx := startReplicas(t, c, 2, maxStale, time.Second)
	a, b := rs[0], rs[1]
	t.Logf("cluster and replicas up after %v", time.Since(began))

	if _, err := a.ws.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := b.ws.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.ws.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: "acme", ZooId: "detectors", Visibility: pb.Visibility_VISIBILITY_PRIVATE}); err != nil {
		t.Fatal(err)
	}
	create := func(r *replica, user string) *pb.CreateTokenResponse {
		t.Helper()
		tok, err := r.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: user, Description: "replicas"})
		if err != nil {
			t.Fatalf("CreateToken on a replica: %v", err)
		}
		return tok
	}

	// Created on one, valid on the other (and revealable there: one key).
	t1 := create(a, "alice")
	until(t, time.Second, "token created on A valid on B", func() bool { return b.valid(ctx, t, t1.GetSecret()) })
	rev, err := b.tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: t1.GetToken().GetTokenId()})
	if err != nil || rev.GetSecret() != t1.GetSecret() {
		t.Fatalf("RevealToken on B = %v; want the secret created on A", err)
	}
	access, err := b.tokens.CheckAccess(ctx, &pb.CheckAccessRequest{Secret: t1.GetSecret(), Zoo: "acme/detectors", Operation: pb.Operation_OPERATION_CLOUD_INFERENCE})
	if err != nil || !access.GetAllowed() {
		t.Fatalf("CheckAccess on B = %v, %v; want allowed", access, err)
	}

	// A revocation on A is refused by B within 100 ms.
	if _, err := a.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: t1.GetToken().GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	took := until(t, 100*time.Millisecond, "revocation on A refused by B", func() bool { return !b.valid(ctx, t, t1.GetSecret()) })
	t.Logf("revocation on replica A refused by replica B after %v (bound 100ms)", took)

	// A member removed on B is refused on A within 100 ms.
	t2 := create(b, "bob")
	until(t, time.Second, "token created on B valid on A", func() bool { return a.valid(ctx, t, t2.GetSecret()) })
	if _, err := b.ws.RemoveMember(ctx, &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "bob"}); err != nil {
		t.Fatal(err)
	}
	took = until(t, 100*time.Millisecond, "member removal on B refused by A", func() bool { return !a.valid(ctx, t, t2.GetSecret()) })
	t.Logf("member removal on replica B refused by replica A after %v (bound 100ms)", took)

	// A zoo made public on A is seen by B's decision within 100 ms.
	t3 := create(a, "alice")
	if _, err := a.ws.UpdateZoo(ctx, &pb.UpdateZooRequest{WorkspaceId: "acme", ZooId: "detectors", Visibility: pb.Visibility_VISIBILITY_PUBLIC}); err != nil {
		t.Fatal(err)
	}

	// One member down: everything works.
	c.Stop(2)
	t4 := create(b, "alice")
	until(t, time.Second, "token created with a member down valid on A", func() bool { return a.valid(ctx, t, t4.GetSecret()) })

	// Quorum lost: writes fail with Unavailable and a detail naming etcd;
	// validation answers from the index within the staleness bound.
	c.Stop(1)
	lost := time.Now()
	// From here on, when does replica A stop trusting its index? Polled
	// aside, so the checks below do not delay the measurement.
	distrusted := make(chan time.Time, 1)
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	go func() {
		for pollCtx.Err() == nil {
			req, _ := http.NewRequestWithContext(pollCtx, http.MethodGet, "http://"+a.d.HTTPAddr.String()+"/readyz", nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable {
					distrusted <- time.Now()
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for _, c := range []struct {
		r      *replica
		secret string
	}{{a, t3.GetSecret()}, {b, t4.GetSecret()}, {a, t4.GetSecret()}, {b, t3.GetSecret()}} {
		v, err := c.r.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: c.secret})
		if err != nil || !v.GetValid() {
			t.Fatalf("ValidateToken right after the quorum was lost = %v, %v; want valid from the index", v, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = a.tokens.CreateToken(wctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"})
	cancel()
	if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "etcd") {
		t.Fatalf("CreateToken without a quorum = %v; want Unavailable naming etcd", err)
	}
	t.Logf("write without a quorum: %v", status.Convert(err).Message())
	// Past the bound the replica reports itself not ready, with the reason.
	for _, r := range rs {
		until(t, 3*maxStale, "readyz reports the stale index", func() bool {
			code, body := readyz(t, r)
			return code == http.StatusServiceUnavailable && strings.Contains(body, "validation index")
		})
	}
	select {
	case at := <-distrusted:
		// The index is trusted for MaxStaleness after the last word from
		// etcd, which came at most one progress interval (a quarter of
		// the bound) before the loss; the rest is scheduling slack.
		took := at.Sub(lost)
		t.Logf("replica A stopped trusting its index %v after the quorum was lost (bound %v)", took.Round(time.Millisecond), maxStale)
		if limit := maxStale + maxStale/4 + 500*time.Millisecond; took > limit {
			t.Errorf("replica A trusted its index for %v after the quorum was lost; want at most %v", took, limit)
		}
	case <-time.After(3 * maxStale):
		t.Fatal("replica A never reported its index stale")
	}
	// Past the bound validation no longer trusts the index: it reads
	// through to etcd, which cannot answer.
	if _, err := b.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: t4.GetSecret()}); status.Code(err) != codes.Unavailable {
		t.Fatalf("ValidateToken past the staleness bound without a quorum = %v; want Unavailable", err)
	}

	// The quorum back: writes, validation and readiness recover.
	back := time.Now()
	c.Restart(1)
	c.WaitHealthy(10 * time.Second)
	t.Logf("quorum back after %v", time.Since(back))
	until(t, 10*time.Second, "readyz after the quorum returned", func() bool {
		code, _ := readyz(t, a)
		return code == http.StatusOK
	})
	t.Logf("replica ready after %v", time.Since(back))
	t5 := create(a, "alice")
	until(t, time.Second, "token created after recovery valid on B", func() bool { return b.valid(ctx, t, t5.GetSecret()) })
	if _, err := a.tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: t5.GetToken().GetTokenId()}); err != nil {
		t.Fatal(err)
	}
	took = until(t, 100*time.Millisecond, "revocation after recovery refused by B", func() bool { return !b.valid(ctx, t, t5.GetSecret()) })
	t.Logf("after recovery: revocation crossed in %v", took)
}

// TestReplicasConcurrentWriters has writers on two replicas create, refresh
// and revoke tokens of one workspace while a member is removed, then checks
// that every acknowledged token is stored, no secret is stored twice and
// no token of the removed member validates.
func TestReplicasConcurrentWriters(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	rs, ctx := startReplicas(t, c, 2, 2*time.Second, 10*time.Second)
	if _, err := rs[0].ws.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	users := []string{"u0", "u1", "u2", "gone"}
	for _, u := range users {
		if _, err := rs[1].ws.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: u}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	acked := map[string]string{} // token id -> user
	secrets := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rs[w%2]
			user := users[w%len(users)]
			for i := range 8 {
				tok, err := r.tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: user, Description: fmt.Sprintf("w%d-%d", w, i)})
				if status.Code(err) == codes.FailedPrecondition && user == "gone" {
					return // removed meanwhile: refused, as it must be
				}
				if err != nil {
					errs <- fmt.Errorf("CreateToken: %w", err)
					return
				}
				mu.Lock()
				acked[tok.GetToken().GetTokenId()] = user
				secrets[tok.GetToken().GetTokenId()] = tok.GetSecret()
				mu.Unlock()
				switch i % 3 {
				case 1:
					if _, err := rs[(w+1)%2].tokens.RevokeToken(ctx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: tok.GetToken().GetTokenId()}); err != nil {
						errs <- fmt.Errorf("RevokeToken: %w", err)
						return
					}
				case 2:
					ref, err := rs[(w+1)%2].self.RefreshToken(ctx, &pb.RefreshTokenRequest{Token: tok.GetSecret()})
					if status.Code(err) == codes.FailedPrecondition || status.Code(err) == codes.Unauthenticated || status.Code(err) == codes.PermissionDenied {
						continue // the member was removed meanwhile
					}
					if err != nil {
						errs <- fmt.Errorf("RefreshToken: %w", err)
						return
					}
					_ = ref
				}
			}
		}()
	}
	// Deliberately let the writers run for a while, so the removal lands
	// in the middle of their writes.
	time.Sleep(50 * time.Millisecond)
	if _, err := rs[0].ws.RemoveMember(ctx, &pb.RemoveMemberRequest{WorkspaceId: "acme", UserId: "gone"}); err != nil {
		t.Fatalf("RemoveMember during the writes: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Every acknowledged token is listed, once.
	listed := map[string]int{}
	pageToken := ""
	for {
		resp, err := rs[1].tokens.ListTokens(ctx, &pb.ListTokensRequest{WorkspaceId: "acme", ShowRevoked: true, PageSize: 100, PageToken: pageToken})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range resp.GetTokens() {
			listed[tok.GetTokenId()]++
		}
		if pageToken = resp.GetNextPageToken(); pageToken == "" {
			break
		}
	}
	for id := range acked {
		if listed[id] != 1 {
			t.Errorf("acknowledged token %s listed %d times; want 1", id, listed[id])
		}
	}
	// No secret stored twice: every acknowledged secret validates as its own token
	// or is refused; none validates as another token.
	seen := map[string]string{}
	for id, secret := range secrets {
		v, err := rs[0].tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		if v.GetValid() && v.GetToken().GetTokenId() != id {
			t.Errorf("secret of %s validates as %s", id, v.GetToken().GetTokenId())
		}
		if other, dup := seen[secret]; dup {
			t.Errorf("tokens %s and %s share a secret", id, other)
		}
		seen[secret] = id
		if acked[id] == "gone" && v.GetValid() {
			t.Errorf("token %s of the removed member still validates", id)
		}
	}
	t.Logf("%d tokens acknowledged across 2 replicas, %d listed", len(acked), len(listed))
}
