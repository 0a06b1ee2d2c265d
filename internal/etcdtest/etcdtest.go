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

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"tokenauthority/tlsconfig/certtest"
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
	// tls is set when members serve clients over mutual TLS.
	tls *TLS
	// rootPassword is set when authentication is on.
	rootPassword string
}

// TLS names the PEM files of a cluster that serves clients over mutual
// TLS: the CA that issued the members' certificates and verifies
// clients', and a client certificate it issued.
type TLS struct {
	CAFile string
	Client certtest.Pair
	ca     *certtest.CA
	server certtest.Pair
}

// User is an etcd user Start creates when authentication is on: its role,
// named after it, may read and write every key under Prefix and nothing
// else (what `etcdctl role grant-permission --prefix=true` grants).
type User struct {
	Name, Password, Prefix string
}

// Auth turns on etcd authentication after start: a root user with
// RootPassword and Users.
type Auth struct {
	RootPassword string
	Users        []User
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
	// MutualTLS makes members serve clients over https only and demand a
	// client certificate issued by the cluster's CA (etcd's
	// --client-cert-auth). The CA and a client certificate are written to
	// a t.TempDir() and named by Cluster.TLS. Peers keep plain http.
	MutualTLS bool
	// Auth, when set, turns etcd authentication on once the cluster runs.
	Auth *Auth
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
	clientScheme := "http"
	if opts.MutualTLS {
		dir := t.TempDir()
		ca := certtest.NewCA(t, dir, "etcd")
		c.tls = &TLS{CAFile: ca.CertFile, ca: ca, server: ca.Server(t, "etcd-server"), Client: ca.Client(t, "etcd-client", "")}
		clientScheme = "https"
	}
	var initial []string
	for i := 0; i < n; i++ {
		m := &member{
			name:      fmt.Sprintf("m%d", i),
			dir:       t.TempDir(),
			peerURL:   url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i])},
			clientURL: url.URL{Scheme: clientScheme, Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])},
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
	if opts.Auth != nil {
		if err := c.enableAuth(*opts.Auth); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// enableAuth creates root and the users with their prefix roles, then
// turns authentication on; from then on the cluster's own clients log in
// as root.
func (c *Cluster) enableAuth(a Auth) error {
	cli, err := clientv3.New(c.clientConfig(time.Second))
	if err != nil {
		return fmt.Errorf("auth client: %w", err)
	}
	defer func() { _ = cli.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", a.RootPassword); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
	}
	for _, u := range a.Users {
		steps = append(steps,
			func() error { _, err := cli.RoleAdd(ctx, u.Name); return err },
			func() error {
				_, err := cli.RoleGrantPermission(ctx, u.Name, u.Prefix, clientv3.GetPrefixRangeEnd(u.Prefix),
					clientv3.PermissionType(clientv3.PermReadWrite))
				return err
			},
			func() error { _, err := cli.UserAdd(ctx, u.Name, u.Password); return err },
			func() error { _, err := cli.UserGrantRole(ctx, u.Name, u.Name); return err },
		)
	}
	steps = append(steps, func() error { _, err := cli.AuthEnable(ctx); return err })
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("enable auth: %w", err)
		}
	}
	c.rootPassword = a.RootPassword
	return nil
}

// TLS names the cluster's CA and a client certificate; nil unless the
// cluster was started with MutualTLS.
func (c *Cluster) TLS() *TLS { return c.tls }

// clientConfig is the configuration of the cluster's own clients: its
// client certificate when it serves TLS, root when authentication is on.
func (c *Cluster) clientConfig(dial time.Duration) clientv3.Config {
	cc := clientv3.Config{
		Endpoints:   c.Endpoints(),
		DialTimeout: dial,
		Logger:      zap.NewNop(),
	}
	if c.tls != nil {
		info := transport.TLSInfo{CertFile: c.tls.Client.CertFile, KeyFile: c.tls.Client.KeyFile, TrustedCAFile: c.tls.CAFile}
		tc, err := info.ClientConfig()
		if err != nil {
			c.t.Fatalf("etcdtest: client TLS: %v", err)
		}
		cc.TLS = tc
	}
	if c.rootPassword != "" {
		cc.Username, cc.Password = "root", c.rootPassword
	}
	return cc
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
	if c.tls != nil {
		cfg.ClientTLSInfo = transport.TLSInfo{
			CertFile:       c.tls.server.CertFile,
			KeyFile:        c.tls.server.KeyFile,
			TrustedCAFile:  c.tls.CAFile,
			ClientCertAuth: true,
		}
	}
	// The lowest cost bcrypt allows: users are created and log in during
	// tests, and the default cost takes tens of milliseconds each time.
	cfg.BcryptCost = 4
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

// Client returns a client on every member, closed when the test ends. It
// presents the cluster's client certificate and logs in as root when the
// cluster has them.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(c.clientConfig(2 * time.Second))
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
	cli, err := clientv3.New(c.clientConfig(time.Second))
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
