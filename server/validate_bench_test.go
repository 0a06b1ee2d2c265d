package server_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/metadata"

	"tokenauthority/credential"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/storage"
)

// BenchmarkValidateInProcess measures ValidateToken called in-process (the
// service method with its authorization, store read and verdict, without a
// transport) at 1k and 1M stored tokens, beside its floor in the same run:
// SHA-256 of the secret and a Go map lookup over the same number of keys.
// bench/run.sh reads its output.
//
//	go test ./server -run '^$' -bench 'ValidateInProcess/tokens=1000$/' -benchmem
func BenchmarkValidateInProcess(b *testing.B) {
	for _, n := range []int{1000, 1_000_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			tokens, secrets := filledServer(b, n)
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+validatorSecret))
			index := make(map[[sha256.Size]byte]int, n)
			for i, s := range secrets {
				index[sha256.Sum256([]byte(s))] = i
			}
			b.Run("baseline=sha256+map", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					s := secrets[(i*7919)%n]
					if _, ok := index[sha256.Sum256([]byte(s))]; !ok {
						b.Fatal("secret missing from the map")
					}
				}
			})
			b.Run("ValidateToken", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					resp, err := tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secrets[(i*7919)%n]})
					if err != nil {
						b.Fatal(err)
					}
					if !resp.GetValid() {
						b.Fatalf("ValidateToken = %v", resp)
					}
				}
			})
		})
	}
}

// filledServer returns the token service of a server over a fresh store
// holding n tokens, created through CreateToken by many goroutines at once
// so that they share commits, and their secrets.
func filledServer(b *testing.B, n int) (pb.TokenServiceServer, []string) {
	b.Helper()
	dir := b.TempDir()
	store, err := storage.Open(filepath.Join(dir, "tokenauthority.db"), storage.Options{MaxBatch: 4096})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	key, err := seal.LoadOrCreateKey(filepath.Join(dir, "master.key"))
	if err != nil {
		b.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		b.Fatal(err)
	}
	creds, err := credential.Parse([]byte(`{"credentials":[
		{"name":"web","role":"admin","sha256":"` + credential.HashHex(adminSecret) + `"},
		{"name":"zoo-service","role":"validator","sha256":"` + credential.HashHex(validatorSecret) + `"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Store: store, Box: box, Credentials: creds, Reveal: true})
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+adminSecret))
	if _, err := srv.Workspaces().CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.Workspaces().AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "ann"}); err != nil {
		b.Fatal(err)
	}
	tokens := srv.Tokens()
	secrets := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 512 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				resp, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "ann", Description: "benchmark token"})
				if err != nil {
					b.Error(err)
					return
				}
				secrets[i] = resp.GetSecret()
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return tokens, secrets
}
