package server_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/metadata"

	"tokenauthority/credential"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/seal"
	"tokenauthority/server"
	"tokenauthority/storage/bbolt"
)

// BenchmarkValidateInProcess measures validating a token in process at 1k
// and 1M stored tokens, beside its floor in the same run: SHA-256 of the
// secret and a Go map lookup over the same number of keys; and, for scale,
// what one cache miss and one record-sized read cost in as much memory as
// the tokens take.
//
// Resolve is the subject: the decision path every transport calls
// (access.Authority.ResolveInto on the real store: the secret's shape and
// checksum, its hash, the index lookup and decoding into a record the
// caller owns and reuses, the verdict). ValidateToken is the
// service method on top of it, as a transport calls it: the caller's own
// authentication (SHA-256 of its credential) and the response, allocated
// per call. bench/run.sh reads its output.
//
//	go test ./server -run '^$' -bench 'ValidateInProcess/tokens=1000$/' -benchmem
func BenchmarkValidateInProcess(b *testing.B) {
	for _, n := range []int{1000, 1_000_000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			srv, secrets, cred := benchServer(b, n)
			tokens, authority := srv.Tokens(), srv.Access()
			n := len(secrets)
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+cred))
			// Validate every secret once first, so that the rounds measure a
			// server whose store pages are mapped (a reopened file faults
			// each page in on first touch) and whose map has seen every key.
			for _, secret := range secrets {
				if _, err := tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret}); err != nil {
					b.Fatal(err)
				}
			}
			index := make(map[[sha256.Size]byte]int, n)
			for i, s := range secrets {
				index[sha256.Sum256([]byte(s))] = i
			}
			probes := probeOrder(secrets)
			chase := randomCycle(n)
			// Alternating rounds, so that drift in the machine's load
			// hits both; repeated names get a #NN suffix.
			for range 3 {
				b.Run("baseline=sha256+map", func(b *testing.B) {
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						s := probes[i%n]
						if _, ok := index[sha256.Sum256([]byte(s))]; !ok {
							b.Fatal("secret missing from the map")
						}
					}
				})
				b.Run("floor=random-read", func(b *testing.B) {
					// One read at a random place in as much memory as the
					// index's records take (256 bytes a token), each
					// depending on the one before: what one cache miss
					// costs at this many tokens.
					at := uint32(0)
					for b.Loop() {
						at = chase[at*chaseStride]
					}
					if at >= uint32(n) {
						b.Fatal("the chase left the cycle")
					}
				})
				b.Run("floor=random-record", func(b *testing.B) {
					// The same, reading all four cache lines of the
					// 256-byte place at once, as the index's lookup reads
					// a token's record: what reading one record costs at
					// this many tokens, with no index in front of it.
					at, sum := uint32(0), uint32(0)
					for b.Loop() {
						cell := chase[at*chaseStride : (at+1)*chaseStride]
						sum += cell[16] + cell[32] + cell[48]
						at = cell[0]
					}
					if at >= uint32(n) {
						b.Fatal("the chase left the cycle")
					}
					// Only each place's first line is written: the sum
					// keeps the other reads from being dropped.
					if sum != 0 {
						b.Fatalf("a place's other cache lines sum to %d, want 0", sum)
					}
				})
				b.Run("Resolve", func(b *testing.B) {
					b.ReportAllocs()
					// One record reused, as a gateway reuses its records.
					var rec storagepb.TokenRecord
					for i := 0; b.Loop(); i++ {
						v, err := authority.ResolveInto(ctx, probes[i%n], &rec)
						if err != nil {
							b.Fatal(err)
						}
						if !v.Valid() {
							b.Fatalf("Resolve = %v", v.Reason)
						}
					}
				})
				b.Run("ValidateToken", func(b *testing.B) {
					b.ReportAllocs()
					// One request reused: its allocation is the caller's
					// (a transport decodes into its own), not the call's.
					req := &pb.ValidateTokenRequest{}
					for i := 0; b.Loop(); i++ {
						req.Secret = probes[i%n]
						resp, err := tokens.ValidateToken(ctx, req)
						if err != nil {
							b.Fatal(err)
						}
						if !resp.GetValid() {
							b.Fatalf("ValidateToken = %v", resp)
						}
					}
				})
			}
		})
	}
}

// chaseStride is the distance between two places of randomCycle, in
// uint32s: 256 bytes.
const chaseStride = 64

// randomCycle returns n places chaseStride apart, each holding the number
// of the next in one random cycle through all of them (Sattolo's shuffle),
// so that following it reads memory in an order no prefetcher can guess.
func randomCycle(n int) []uint32 {
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	r := rand.New(rand.NewPCG(7, uint64(n)))
	for i := n - 1; i > 0; i-- {
		j := r.IntN(i)
		order[i], order[j] = order[j], order[i]
	}
	mem := make([]uint32, n*chaseStride)
	for i := range n {
		mem[order[i]*chaseStride] = order[(i+1)%n]
	}
	return mem
}

// probeOrder returns the secrets in the order the benchmarks present them:
// every secret once, in an order unrelated to the stored one, laid out one
// after another in one buffer. A server's secret comes from a request it
// has just read, so it is in the CPU cache; reading the next probe from
// the next bytes of a buffer keeps it so, and leaves the cache misses of a
// large store to the lookup itself (picking secrets at random from 1M
// separately allocated strings would add two misses of the benchmark's
// own to every side).
func probeOrder(secrets []string) []string {
	n := len(secrets)
	var all strings.Builder
	for i := range n {
		all.WriteString(secrets[(i*7919)%n])
	}
	buf := all.String()
	out := make([]string, n)
	off := 0
	for i := range n {
		l := len(secrets[(i*7919)%n])
		out[i] = buf[off : off+l]
		off += l
	}
	return out
}

// benchServer returns the token service of a server holding n tokens, the
// secrets of those tokens and a validator credential. For 1M tokens it
// reuses the store bench/run.sh filled, when TOKENAUTHORITY_BENCH_STORE
// names its directory (tokenauthority.db, credentials.json,
// validator.credential and secrets.txt, one secret a line), rather than
// filling another for minutes.
func benchServer(b *testing.B, n int) (*server.Server, []string, string) {
	dir := os.Getenv("TOKENAUTHORITY_BENCH_STORE")
	if n < 1_000_000 || dir == "" {
		srv, secrets := filledServer(b, n)
		return srv, secrets, validatorSecret
	}
	store, err := bbolt.Open(filepath.Join(dir, "tokenauthority.db"), bbolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	creds, err := credential.Load(filepath.Join(dir, "credentials.json"))
	if err != nil {
		b.Fatal(err)
	}
	cred, err := os.ReadFile(filepath.Join(dir, "validator.credential"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "secrets.txt"))
	if err != nil {
		b.Fatal(err)
	}
	secrets := strings.Fields(string(raw))
	if len(secrets) < n {
		b.Fatalf("%s holds %d secrets, want %d", dir, len(secrets), n)
	}
	box, err := seal.New(make([]byte, 32)) // validation never opens a sealed secret
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Config{Store: store, Box: box, Credentials: creds, Reveal: true})
	return srv, secrets, strings.TrimSpace(string(cred))
}

// filledServer returns the token service of a server over a fresh store
// holding n tokens, created through CreateToken by many goroutines at once
// so that they share commits (without fsync: the file is thrown away), and
// their secrets.
func filledServer(b *testing.B, n int) (*server.Server, []string) {
	b.Helper()
	dir := b.TempDir()
	store, err := bbolt.Open(filepath.Join(dir, "tokenauthority.db"), bbolt.Options{MaxBatch: 4096, NoSync: true})
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
	return srv, secrets
}
