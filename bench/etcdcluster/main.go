// Command etcdcluster runs an etcd cluster of -members members in one
// process, every member on 127.0.0.1 with ports the kernel picked, for the
// load harness's etcd rows. It prints {"endpoints": "URL,URL,..."} on
// stdout once the cluster answers a linearizable read, and serves until
// SIGTERM or SIGINT, when it stops every member.
//
//	etcdcluster -dir D [-members 3] [-fsync]
//
// Without -fsync the members skip fsync (etcd's --unsafe-no-fsync): the
// harness fills a replica's store that way, as bench/fill fills the bbolt
// file without syncing. With it they fsync their log as a production
// member does, which the write rows need.
//
// # How it can hurt you
//
// The members keep their data under -dir, which the caller removes; all of
// them share this machine's one disk, so with -fsync their fsyncs queue
// behind each other and behind every other writer on the machine. They are
// one process: a crash of one is a crash of all.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdcluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("etcdcluster", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory of the members' data (required)")
	n := fs.Int("members", 3, "members of the cluster")
	fsync := fs.Bool("fsync", false, "fsync the members' logs, as a production etcd does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *n < 1 {
		return errors.New("-dir is required and -members must be at least 1")
	}
	ports, err := freePorts(2 * *n)
	if err != nil {
		return err
	}
	cfgs := make([]*embed.Config, *n)
	var initial, endpoints []string
	token := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	for i := range cfgs {
		peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i])}
		client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1])}
		c := embed.NewConfig()
		c.Name = fmt.Sprintf("m%d", i)
		c.Dir = filepath.Join(*dir, c.Name)
		c.ListenPeerUrls, c.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		c.ListenClientUrls, c.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		c.InitialClusterToken = token
		c.UnsafeNoFsync = !*fsync
		// No metrics or pprof listeners beyond the client URL.
		c.ListenMetricsUrls = nil
		c.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfgs[i] = c
		initial = append(initial, c.Name+"="+peer.String())
		endpoints = append(endpoints, client.String())
	}
	members := make([]*embed.Etcd, 0, *n)
	defer func() {
		// The data is thrown away: raft stops at once, without handing
		// leadership over, which would take each Close seconds.
		for _, e := range members {
			e.Server.HardStop()
		}
		for _, e := range members {
			e.Close()
		}
	}()
	started := make(chan result, *n)
	for _, c := range cfgs {
		c.InitialCluster = strings.Join(initial, ",")
		go func() {
			e, err := embed.StartEtcd(c)
			started <- result{e, err}
		}()
	}
	var errs []error
	for range cfgs {
		// A member may wait for its peers for long; a signal meanwhile
		// ends the process, with the members started so far closed.
		var r result
		select {
		case r = <-started:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		members = append(members, r.e)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := waitHealthy(ctx, endpoints, 30*time.Second); err != nil {
		return err
	}
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"endpoints": strings.Join(endpoints, ",")}); err != nil {
		return err
	}
	failed := make(chan error, len(members))
	for _, e := range members {
		go func() {
			if err, ok := <-e.Err(); ok && err != nil {
				failed <- err
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return fmt.Errorf("member failed: %w", err)
	}
}

type result struct {
	e   *embed.Etcd
	err error
}

// waitHealthy waits until the cluster answers a linearizable read, which
// needs a leader.
func waitHealthy(ctx context.Context, endpoints []string, timeout time.Duration) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(timeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := cli.Get(rctx, "health")
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("cluster not healthy after %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePorts returns n distinct free loopback ports. Another process may
// take one before a member binds it; the harness then fails to start the
// cluster and says so.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
