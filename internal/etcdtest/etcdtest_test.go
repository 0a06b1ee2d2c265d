package etcdtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"tokenauthority/internal/etcdtest"
	"tokenauthority/internal/teststack"
)

// TestQuorum starts three members, writes, loses one member (still
// writable), loses a second (writes fail), and gets the quorum back.
func TestQuorum(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	put := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := cli.Put(ctx, "k", "v")
		return err
	}
	if err := put(5 * time.Second); err != nil {
		t.Fatalf("put on a healthy cluster: %v", err)
	}
	c.Stop(2)
	// A put sent to the stopped member fails ("raft: stopped"); the
	// client's next attempt goes to a live one.
	teststack.Eventually(t, 5*time.Second, func() error {
		if err := put(time.Second); err != nil {
			return fmt.Errorf("put with one member down: %w", err)
		}
		return nil
	})
	c.Stop(1)
	if err := put(300 * time.Millisecond); err == nil {
		t.Fatal("put without a quorum succeeded")
	}
	c.Restart(1)
	c.WaitHealthy(10 * time.Second)
	if err := put(5 * time.Second); err != nil {
		t.Fatalf("put after the quorum came back: %v", err)
	}
}

// TestMutualTLS checks the cluster demands a client certificate: its own
// client (with one) writes, a client with only the CA is refused.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{Members: 1, MutualTLS: true})
	for _, ep := range c.Endpoints() {
		if !strings.HasPrefix(ep, "https://127.0.0.1:") {
			t.Fatalf("endpoint %s, want https on 127.0.0.1", ep)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.Client(t).Put(ctx, "k", "v"); err != nil {
		t.Fatalf("put with the client certificate: %v", err)
	}
	caOnly, err := (transport.TLSInfo{TrustedCAFile: c.TLS().CAFile}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), TLS: caOnly, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	short, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	if _, err := cli.Put(short, "k", "v"); err == nil {
		t.Fatal("put without a client certificate succeeded")
	}
}

// TestAuth checks that a user's role covers its prefix and nothing else.
func TestAuth(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{Members: 1, Auth: &etcdtest.Auth{
		RootPassword: "root-pw",
		Users:        []etcdtest.User{{Name: "ta", Password: "ta-pw", Prefix: "/ta/"}},
	}})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.Client(t).Put(ctx, "/anywhere", "v"); err != nil {
		t.Fatalf("put as root: %v", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), Username: "ta", Password: "ta-pw", DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("log in as ta: %v", err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "/ta/k", "v"); err != nil {
		t.Fatalf("put under the user's prefix: %v", err)
	}
	if _, err := cli.Put(ctx, "/other/k", "v"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("put outside the user's prefix = %v, want permission denied", err)
	}
	if _, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), Username: "ta", Password: "wrong", DialTimeout: time.Second, Logger: zap.NewNop()}); !errors.Is(err, rpctypes.ErrAuthFailed) {
		t.Fatalf("log in with a wrong password = %v, want authentication failed", err)
	}
}
