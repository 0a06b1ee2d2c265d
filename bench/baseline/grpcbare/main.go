// Command grpcbare is the gRPC baseline of the load harness: a grpc-go
// server with nothing but the standard health service (and reflection, which
// the load tool uses once to learn the method). What the token authority
// costs per call beyond this is the authority's own work.
//
// It listens on 127.0.0.1:0 and prints {"addr": "..."} on stdout once
// bound; it serves until SIGINT or SIGTERM.
//
// # How it can hurt you
//
// It answers SERVING to everyone without authentication; never bind it
// beyond loopback.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "grpcbare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	g := grpc.NewServer()
	healthpb.RegisterHealthServer(g, health.NewServer())
	reflection.Register(g)
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"addr": lis.Addr().String()}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		g.Stop()
		return nil
	}
}
