package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is a running in-process etcd cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	t       testing.TB
	token   string
	initial string
	// maxRequest is the members' --max-request-bytes (0: etcd's default).
	maxRequest uint
	fsync      bool
	members    []*member
}

type member struct {
	name      string
	dir       string
	peerURL   url.URL
	clientURL url.URL

	mu   sync.Mutex
	etcd *embed.Etcd
	// closed is closed when the last stopped instance has released its
	// listeners and data directory.
	closed chan struct{}
}

// Options tune Start. The zero value starts three members.
type Options struct {
	// Members is the cluster size; 0 means 3.
	Members int
	// ProgressNotify is the server's watch progress-notification interval;
	// 0 means 100ms, so watchers learn the current revision quickly.
	ProgressNotify time.Duration
	// MaxRequestBytes is every member's --max-request-bytes; 0 means
	// etcd's default (1.5 MiB). A test that must cross the limit sets a
	// small one, so it need not write megabytes.
	MaxRequestBytes uint
	// Fsync makes members fsync their log as a production etcd does;
	// by default they skip it, which is faster and enough for tests
	// of behaviour. Benchmarks that report write rates set it.
	Fsync bool
}

// Start starts a cluster and waits until it has a leader and answers a
// linearizable read. The cluster is closed when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	n := opts.Members
	if n <= 0 {
		n = 3
	}
	progress := opts.ProgressNotify
	if progress <= 0 {
		progress = 100 * time.Millisecond
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		c, err := start(t, n, progress, opts, attempt)
		if err == nil {
			t.Cleanup(c.close)
			return c
		}
		lastErr = err
	}
	t.Fatalf("etcdtest: start %d members: %v", n, lastErr)
	return nil
}

func start(t testing.TB, n int, progress time.Duration, opts Options, attempt int) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{t: t, token: fmt.Sprintf("etcdtest-%d-%d", time.Now().UnixNano(), attempt), maxRequest: opts.MaxRequestBytes, fsync: opts.Fsync}
	var initial []string
	for i := 0; i < n; i++ {
		m := &member{
			name:      fmt.Sprintf("m%d", i),
			dir:       t.TempDir(),
			peerURL:   url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i])},
			clientURL: url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])},
		}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peerURL.String())
	}
	c.initial = strings.Join(initial, ",")

	errs := make(chan error, n)
	for _, m := range c.members {
		go func() { errs <- c.startMember(m, embed.ClusterStateFlagNew, progress) }()
	}
	var firstErr error
	for range n {
		if err := <-errs; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		c.close()
		return nil, firstErr
	}
	if err := c.waitHealthy(10 * time.Second); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startMember(m *member, state string, progress time.Duration) error {
	cfg := embed.NewConfig()
	cfg.Name = m.name
	cfg.Dir = m.dir
	cfg.ListenPeerUrls = []url.URL{m.peerURL}
	cfg.AdvertisePeerUrls = []url.URL{m.peerURL}
	cfg.ListenClientUrls = []url.URL{m.clientURL}
	cfg.AdvertiseClientUrls = []url.URL{m.clientURL}
	cfg.InitialCluster = c.initial
	cfg.InitialClusterToken = c.token
	cfg.ClusterState = state
	cfg.TickMs = 20
	cfg.ElectionMs = 200
	cfg.UnsafeNoFsync = !c.fsync
	cfg.WatchProgressNotifyInterval = progress
	if c.maxRequest > 0 {
		cfg.MaxRequestBytes = c.maxRequest
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("member %s: %w", m.name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("member %s: %w", m.name, err)
	case <-time.After(15 * time.Second):
		e.Close()
		return fmt.Errorf("member %s: not ready after 15s", m.name)
	}
	m.mu.Lock()
	m.etcd = e
	m.mu.Unlock()
	return nil
}

// Endpoints returns every member's client URL, running or not.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.clientURL.String()
	}
	return out
}

// Client returns a client on every member, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   c.Endpoints(),
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcdtest: client: %v", err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Stop stops member i (0-based) the way a crash would: raft stops at once,
// without handing over leadership, and the member's listeners are released
// in the background (etcd waits up to several seconds for open client
// streams). Data and ports are kept for Restart.
func (c *Cluster) Stop(i int) {
	m := c.members[i]
	m.mu.Lock()
	e := m.etcd
	m.etcd = nil
	closed := make(chan struct{})
	if e != nil {
		m.closed = closed
	}
	m.mu.Unlock()
	if e != nil {
		e.Server.HardStop()
		go func() { defer close(closed); e.Close() }()
	}
}

// released waits until member m's last stopped instance is gone.
func (m *member) released() {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed != nil {
		<-closed
	}
}

// Restart starts a stopped member i again on its data and ports, and waits
// until it is ready (which needs a quorum of running members).
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	m := c.members[i]
	m.released()
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = c.startMember(m, embed.ClusterStateFlagExisting, 100*time.Millisecond); err == nil {
			return
		}
		// The old listener may linger for a moment after Close.
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("etcdtest: restart member %d: %v", i, err)
}

// WaitHealthy waits until the cluster answers a linearizable read.
func (c *Cluster) WaitHealthy(timeout time.Duration) {
	c.t.Helper()
	if err := c.waitHealthy(timeout); err != nil {
		c.t.Fatalf("etcdtest: %v", err)
	}
}

func (c *Cluster) waitHealthy(timeout time.Duration) error {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   c.Endpoints(),
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return fmt.Errorf("health client: %w", err)
	}
	defer func() { _ = cli.Close() }()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := cli.Get(ctx, "etcdtest-health")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not healthy after %v: %w", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Cluster) close() {
	var wg sync.WaitGroup
	for i := range c.members {
		wg.Add(1)
		go func() { defer wg.Done(); c.Stop(i); c.members[i].released() }()
	}
	wg.Wait()
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
