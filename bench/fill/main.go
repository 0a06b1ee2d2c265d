// Command fill fills a token authority data directory for the load harness:
// one workspace "bench" with member "ann" and a private zoo "models", and n
// tokens of ann, created through the service's own CreateToken method called
// in-process (the same validation, sealing and store commit as over gRPC,
// without the transport), from many goroutines so that commits are shared.
// With -workspaces W above 0, the tokens after the first 1000 belong to W
// more workspaces ("spread-0" …), each with members "user-0" and "user-1",
// in turn, as a hub's tokens belong to many workspaces and users.
//
//	fill -data-dir D -master-key K -credentials-file C -admin-credential A -tokens 1000000 -secrets-out S [-workspaces 99900]
//
// The store is filled without an fsync per commit (bbolt.Options.NoSync)
// and is never synced: it is for a throwaway file read back by a server on
// the same machine, and a crash during or just after the fill leaves a
// file to throw away.
//
// With -store etcd it fills the etcd store under -etcd-prefix on the
// cluster at -etcd-endpoints instead, the way a server started with
// --store etcd would write it (the same CreateToken, through the etcd
// store); -data-dir is then only created, for the secrets file's sake.
//
// It writes the secrets of the first -keep tokens to -secrets-out, one per
// line, and prints {"tokens": n, "seconds": s} on stdout.
//
// # How it can hurt you
//
// The secrets file holds live secrets of the filled store, and the store
// must not be open in a server while fill runs (bbolt locks the file; fill
// then fails after a second).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"tokenauthority/credential"
	"tokenauthority/etcdclient"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	etcdstore "tokenauthority/storage/etcd"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fill", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "data directory of the server (required)")
	masterKey := fs.String("master-key", "", "the server's --master-key (required)")
	credsFile := fs.String("credentials-file", "", "the server's --credentials-file (required)")
	adminCred := fs.String("admin-credential", "", "an admin credential of that file (required)")
	n := fs.Int("tokens", 1000, "tokens to create")
	keep := fs.Int("keep", 1000, "secrets to write to -secrets-out")
	out := fs.String("secrets-out", "", "file for the kept secrets (required)")
	workers := fs.Int("workers", 512, "concurrent creates")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the creates to this file")
	spread := fs.Int("workspaces", 0, "spread the tokens after the first 1000 over this many more workspaces, with two members each (0: every token in bench)")
	kind := fs.String("store", "bbolt", "bbolt (the file in -data-dir) or etcd (-etcd-endpoints, -etcd-prefix)")
	endpoints := fs.String("etcd-endpoints", "", "with -store etcd: comma-separated client URLs of the cluster")
	prefix := fs.String("etcd-prefix", etcdstore.DefaultPrefix, "with -store etcd: the key prefix of the store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" || *masterKey == "" || *credsFile == "" || *adminCred == "" || *out == "" {
		return errors.New("-data-dir, -master-key, -credentials-file, -admin-credential and -secrets-out are required")
	}
	if *spread < 0 {
		return errors.New("-workspaces must be 0 or more")
	}
	key, err := seal.ParseKey(*masterKey)
	if err != nil {
		return err
	}
	box, err := seal.New(key)
	if err != nil {
		return err
	}
	creds, err := credential.Load(*credsFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	store, err := openStore(ctx, *kind, *dataDir, *endpoints, *prefix)
	if err != nil {
		return err
	}
	defer store.Close()
	srv := server.New(server.Config{Store: store, Box: box, Credentials: creds, Reveal: true})
	ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+*adminCred))

	if err := setup(ctx, srv); err != nil {
		return err
	}
	if err := setupSpread(ctx, srv, *spread, *workers); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	secrets := make([]string, min(*keep, *n))
	tokens := srv.Tokens()
	err = parallel(*n, *workers, func(i int) error {
		ws, user := owner(i, *spread)
		resp, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: ws, UserId: user, Description: "benchmark token"})
		if err != nil {
			return fmt.Errorf("create token %d: %w", i, err)
		}
		if i < len(secrets) {
			secrets[i] = resp.GetSecret()
		}
		return nil
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := writeLines(*out, secrets); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"tokens": *n, "seconds": elapsed.Seconds()})
}

// openStore opens the store to fill: the bbolt file in dataDir, unsynced,
// or the etcd store under prefix.
func openStore(ctx context.Context, kind, dataDir, endpoints, prefix string) (storage.Backend, error) {
	switch kind {
	case "bbolt":
		return bbolt.Open(filepath.Join(dataDir, "tokenauthority.db"), bbolt.Options{MaxBatch: 4096, NoSync: true})
	case "etcd":
		// A write waits its turn on the audit chain behind every other
		// worker's: far longer than a server's default bound.
		return etcdstore.Open(ctx, etcdclient.Config{Endpoints: strings.Split(endpoints, ",")},
			etcdstore.Options{Prefix: prefix, WriteTimeout: 5 * time.Minute})
	default:
		return nil, fmt.Errorf("-store %q: want bbolt or etcd", kind)
	}
}

// setup creates the workspace, member and zoo, or finds them from an
// earlier run.
func setup(ctx context.Context, srv *server.Server) error {
	ws := srv.Workspaces()
	calls := []func() error{
		func() error {
			_, err := ws.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "bench", DisplayName: "Benchmark"})
			return err
		},
		func() error {
			_, err := ws.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "bench", UserId: "ann"})
			return err
		},
		func() error {
			_, err := ws.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: "bench", ZooId: "models", Visibility: pb.Visibility_VISIBILITY_PRIVATE})
			return err
		},
	}
	for _, call := range calls {
		if err := call(); err != nil && status.Code(err) != codes.AlreadyExists {
			return err
		}
	}
	return nil
}

// loadTokens are the first tokens, which stay in workspace bench: the
// harness loads the gateway with them, and bench's zoo is private.
const loadTokens = 1000

// owner returns the workspace and user of token i when the tokens after
// the first loadTokens are spread over spread workspaces (none: 0).
func owner(i, spread int) (workspace, user string) {
	if spread <= 0 || i < loadTokens {
		return "bench", "ann"
	}
	return fmt.Sprintf("spread-%d", i%spread), fmt.Sprintf("user-%d", i/spread%2)
}

// setupSpread creates the spread workspaces and their two members each,
// or finds them from an earlier run.
func setupSpread(ctx context.Context, srv *server.Server, spread, workers int) error {
	ws := srv.Workspaces()
	return parallel(spread, workers, func(i int) error {
		id := fmt.Sprintf("spread-%d", i)
		_, err := ws.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: id, DisplayName: "Spread"})
		for u := 0; u < 2 && (err == nil || status.Code(err) == codes.AlreadyExists); u++ {
			_, err = ws.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: id, UserId: fmt.Sprintf("user-%d", u)})
		}
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return fmt.Errorf("workspace %s: %w", id, err)
		}
		return nil
	})
}

// parallel calls do for 0 … n-1 from workers goroutines, so that their
// commits are shared, and returns the first error, after which no more
// calls start.
func parallel(n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for failed.Load() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return *p
	}
	return nil
}

func writeLines(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
