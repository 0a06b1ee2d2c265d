package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/ratelimit"
	"tokenauthority/server"
	"tokenauthority/token"
)

// fromAddr returns a dialer whose connections leave from ip (an address
// of 127.0.0.0/8: every one of them is the loopback interface on Linux).
func fromAddr(ip string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
}

// TestOpenLimitRefusesBeforeTheMessage: once a client address has spent its
// budget, a call of a method that needs no credential is refused as soon
// as its headers arrive, on gRPC and REST: the test never sends the
// message or body, and still gets the refusal at once (without the early
// limit, the server would wait for the body).
func TestOpenLimitRefusesBeforeTheMessage(t *testing.T) {
	t.Parallel()
	st := teststack.Start(t, func(c *server.Config) {
		c.ClientLimiter = ratelimit.New(ratelimit.Config{Rate: 0.01, Burst: 1})
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// The one request of the budget, over REST: taken once, not again by
	// the handler (that would refuse it).
	resp, err := http.Post(st.HTTPURL+"/v1/tokens:reportLeaked", "application/json", strings.NewReader(`{"secrets":["tka_x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the one report of the budget = %d; want 200", resp.StatusCode)
	}

	t.Run("gRPC", func(t *testing.T) {
		stream, err := st.Conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, pb.TokenService_ReportLeakedTokens_FullMethodName)
		if err != nil {
			t.Fatal(err)
		}
		// Headers only: no message, and the stream stays open.
		var reply pb.ReportLeakedTokensResponse
		err = stream.RecvMsg(&reply)
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("call without its message = %v; want ResourceExhausted at once", err)
		}
	})

	t.Run("REST", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(st.HTTPURL, "http://"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		// A body of 4000 bytes is announced and never sent.
		if _, err := fmt.Fprint(conn, "POST /v1/tokens:reportLeaked HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer without the body: %v", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("answer = %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}

// auditCount is the number of audit events in the store.
func auditCount(t *testing.T, st *teststack.Stack) int {
	t.Helper()
	evs, _, err := st.Store.ListAuditEvents(t.Context(), audit.Filter{}, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestLeakReportFloodWritesNothing floods ReportLeakedTokens without a
// credential from 40 loopback addresses over gRPC and REST, each report
// holding 1000 secrets that match nothing, every sender going on until the
// per-address limit refuses it: those taken write nothing (the store
// file's size and audit event count stay as they were). A report that
// matches still revokes, with its event.
func TestLeakReportFloodWritesNothing(t *testing.T) {
	t.Parallel()
	const (
		addrs = 40
		rate  = 0.1
		burst = 2
		// flood bounds the test; every sender stops at its first refusal.
		flood = 60 * time.Second
	)
	st := teststack.Start(t, func(c *server.Config) {
		c.ClientLimiter = ratelimit.New(ratelimit.Config{Rate: rate, Burst: burst})
	})
	fx := st.MakeFixture(t)

	secrets := make([]string, 1000)
	for i := range secrets {
		s, err := token.New()
		if err != nil {
			t.Fatal(err)
		}
		secrets[i] = s
	}
	grpcReq := &pb.ReportLeakedTokensRequest{Secrets: secrets}
	body, err := json.Marshal(map[string][]string{"secrets": secrets})
	if err != nil {
		t.Fatal(err)
	}

	events0, size0 := auditCount(t, st), fileSize(t, st.DBPath)

	var taken, refused atomic.Int64
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), flood)
	defer cancel()
	var wg sync.WaitGroup
	for i := range addrs {
		ip := fmt.Sprintf("127.0.%d.%d", 1+i/200, 2+i%200)
		conn, err := grpc.NewClient(st.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
				return fromAddr(ip).DialContext(ctx, "tcp", addr)
			}))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tokens := pb.NewTokenServiceClient(conn)
		client := &http.Client{Transport: &http.Transport{DialContext: fromAddr(ip).DialContext}}
		defer client.CloseIdleConnections()
		wg.Go(func() {
			for ctx.Err() == nil {
				_, err := tokens.ReportLeakedTokens(ctx, grpcReq)
				switch status.Code(err) {
				case codes.OK:
					taken.Add(1)
				case codes.ResourceExhausted:
					refused.Add(1)
					return
				case codes.DeadlineExceeded, codes.Canceled:
				default:
					t.Errorf("gRPC report from %s = %v", ip, err)
					return
				}
			}
		})
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.HTTPURL+"/v1/tokens:reportLeaked", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("REST report from %s: %v", ip, err)
					}
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					taken.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
					return
				default:
					t.Errorf("REST report from %s = %d", ip, resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	if err := st.Server.WaitLeakReports(wctx); err != nil {
		t.Fatal(err)
	}
	events1, size1 := auditCount(t, st), fileSize(t, st.DBPath)
	elapsed := time.Since(start)
	t.Logf("%d addresses for %s: %d reports taken, %d refused; audit events %d -> %d, store file %d -> %d bytes",
		addrs, elapsed.Round(time.Millisecond), taken.Load(), refused.Load(), events0, events1, size0, size1)
	// Each address has its burst and the refill while the flood ran.
	if most := int64(addrs * (burst + rate*(elapsed.Seconds()+1))); taken.Load() > most || taken.Load() < addrs {
		t.Errorf("%d reports taken; want between %d and %d", taken.Load(), addrs, most)
	}
	if refused.Load() != 2*addrs {
		t.Errorf("%d senders refused; want all %d", refused.Load(), 2*addrs)
	}
	if events1 != events0 || size1 != size0 {
		t.Errorf("unmatched reports wrote to the store: audit events %d -> %d, file %d -> %d bytes", events0, events1, size0, size1)
	}

	// A report that matches still revokes, with its event.
	conn, err := grpc.NewClient(st.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return fromAddr("127.0.200.1").DialContext(ctx, "tcp", addr)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := pb.NewTokenServiceClient(conn).ReportLeakedTokens(t.Context(), &pb.ReportLeakedTokensRequest{Secrets: []string{fx.Secrets["own"], secrets[0]}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Server.WaitLeakReports(wctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.Tokens.GetToken(teststack.As(t.Context(), teststack.AdminSecret), &pb.GetTokenRequest{WorkspaceId: "acme", TokenId: fx.TokenIDs["own"]})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetToken().GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_LEAKED {
		t.Errorf("reported token = %v; want revoked as leaked", got.GetToken())
	}
	if n := auditCount(t, st); n != events1+1 {
		t.Errorf("audit events after a matching report: %d; want %d", n, events1+1)
	}
}
