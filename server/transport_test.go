package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/server"
)

func withTransport(l server.TransportLimits) envOption {
	return func(c *server.Config) { c.Transport = l }
}

// rawConn is an HTTP/2 client connection driven frame by frame, to do what
// grpc-go's client refuses to do.
type rawConn struct {
	net.Conn
	fr *http2.Framer
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return &rawConn{Conn: c, fr: fr}
}

// until reads frames until match returns true or the connection ends; it
// returns the matching frame, or nil and the read error.
func (c *rawConn) until(t *testing.T, d time.Duration, match func(http2.Frame) bool) (http2.Frame, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			if err := c.fr.WriteSettingsAck(); err != nil {
				return nil, err
			}
		}
		if match(f) {
			return f, nil
		}
	}
}

// TestHeaderListLimit: a call with more metadata than the limit is refused
// (by grpc-go's client, which honours the server's SETTINGS, and by the
// server when a client ignores them), and the connection keeps working.
func TestHeaderListLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := metadata.AppendToOutgoingContext(t.Context(), "x-padding", strings.Repeat("a", 16<<10))
	_, err := e.self.GetTokenInfo(big, &pb.GetTokenInfoRequest{Token: "x"})
	if err == nil || status.Code(err) == codes.Unauthenticated {
		t.Fatalf("GetTokenInfo with 16 KiB of metadata = %v; want it refused before reaching the service", err)
	}
	// Well under the limit still works on the same connection.
	small := metadata.AppendToOutgoingContext(t.Context(), "x-padding", strings.Repeat("a", 2<<10))
	if _, err := e.self.GetTokenInfo(small, &pb.GetTokenInfoRequest{Token: "x"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("GetTokenInfo with 2 KiB of metadata = %v; want the service's Unauthenticated", err)
	}

	// A client that ignores the advertised limit is refused by the server:
	// the same raw call is answered with 2 KiB of padding and not with 64.
	if got := rawCall(t, e.addr, 2<<10); got != "16" {
		t.Fatalf("raw call with 2 KiB of headers: grpc-status %q; want 16 (Unauthenticated, from the service)", got)
	}
	if got := rawCall(t, e.addr, 64<<10); got == "16" || got == "0" {
		t.Errorf("raw call with 64 KiB of headers: grpc-status %q; want it refused before the service", got)
	}
}

// rawCall makes one GetTokenInfo call with padding bytes of extra metadata
// over a raw HTTP/2 connection, ignoring the server's advertised header
// limit as grpc-go's client would not. It returns the grpc-status of the
// answer, or "refused" when the stream was reset or the connection closed.
func rawCall(t *testing.T, addr string, padding int) string {
	t.Helper()
	c := dialRaw(t, addr)
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: pb.SelfService_GetTokenInfo_FullMethodName}, {Name: ":authority", Value: "x"},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	} {
		enc.WriteField(f)
	}
	for i := 0; padding > 0; i++ {
		n := min(padding, 4<<10)
		enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-padding-%d", i), Value: strings.Repeat("b", n), Sensitive: true})
		padding -= n
	}
	frag := block.Bytes()
	for first := true; len(frag) > 0; first = false {
		n := min(len(frag), 16<<10)
		var err error
		if first {
			err = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: frag[:n], EndHeaders: n == len(frag)})
		} else {
			err = c.fr.WriteContinuation(1, n == len(frag), frag[:n])
		}
		if err != nil {
			t.Logf("connection closed while sending headers: %v", err)
			return "refused"
		}
		frag = frag[n:]
	}
	msg, err := proto.Marshal(&pb.GetTokenInfoRequest{Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	if err := c.fr.WriteData(1, true, frame); err != nil {
		t.Logf("connection closed while sending the message: %v", err)
		return "refused"
	}
	dec := hpack.NewDecoder(4096, nil)
	got := ""
	_, err = c.until(t, 5*time.Second, func(f http2.Frame) bool {
		switch f := f.(type) {
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			got = "refused"
			return true
		case *http2.HeadersFrame:
			fields, derr := dec.DecodeFull(f.HeaderBlockFragment())
			if derr != nil {
				t.Fatalf("decode response headers: %v", derr)
			}
			for _, hf := range fields {
				if hf.Name == "grpc-status" {
					got = hf.Value
					return true
				}
			}
		}
		return false
	})
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("no answer within 5 s")
		}
		t.Logf("connection closed before an answer: %v", err)
		return "refused"
	}
	return got
}

// TestMaxConcurrentStreams: calls beyond the per-connection limit wait
// until an open one ends.
func TestMaxConcurrentStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withTransport(server.TransportLimits{MaxConcurrentStreams: 2, RequestReadTimeout: time.Minute}))
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	self := pb.NewSelfServiceClient(conn)
	// Warm the connection so the server's SETTINGS are known.
	if _, err := self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: "x"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("warm-up call: %v", err)
	}
	hold, release := context.WithCancel(t.Context())
	desc := &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}
	for range 2 {
		if _, err := conn.NewStream(hold, desc, pb.SelfService_GetTokenInfo_FullMethodName); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	_, err = self.GetTokenInfo(ctx, &pb.GetTokenInfoRequest{Token: "x"})
	cancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a third call while two streams are open = %v; want it to wait (DeadlineExceeded)", err)
	}
	release()
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := self.GetTokenInfo(ctx, &pb.GetTokenInfoRequest{Token: "x"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("a call after the streams ended = %v; want it served", err)
	}
}

// TestRequestReadTimeout: a call that never sends its request message is
// ended by the server within the bound, instead of holding a stream.
func TestRequestReadTimeout(t *testing.T) {
	t.Parallel()
	const bound = 300 * time.Millisecond
	e := newEnv(t, withTransport(server.TransportLimits{RequestReadTimeout: bound}))
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	st, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, pb.SelfService_GetTokenInfo_FullMethodName)
	if err != nil {
		t.Fatal(err)
	}
	err = st.RecvMsg(new(pb.GetTokenInfoResponse))
	took := time.Since(start)
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("RecvMsg on a call that never sent = %v; want an error", err)
	}
	if took < bound || took > bound+5*time.Second {
		t.Errorf("the server ended the silent call after %v; want about %v", took, bound)
	}
	t.Logf("silent call ended after %v with %v", took, err)

	// A call that sends promptly is not affected, even when it runs longer
	// than the bound in total.
	if _, err := e.self.GetTokenInfo(t.Context(), &pb.GetTokenInfoRequest{Token: "x"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a normal call = %v; want the service's answer", err)
	}
}

// TestKeepaliveEnforcement: a client pinging more often than the policy
// allows is sent GOAWAY too_many_pings and disconnected.
func TestKeepaliveEnforcement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := dialRaw(t, e.addr)
	for i := range 10 {
		if err := c.fr.WritePing(false, [8]byte{byte(i)}); err != nil {
			break // already disconnected
		}
	}
	f, err := c.until(t, 5*time.Second, func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if err != nil {
		t.Fatalf("after 10 pings in a row: %v; want GOAWAY", err)
	}
	ga := f.(*http2.GoAwayFrame)
	if ga.ErrCode != http2.ErrCodeEnhanceYourCalm || string(ga.DebugData()) != "too_many_pings" {
		t.Errorf("GOAWAY %v %q; want ENHANCE_YOUR_CALM too_many_pings", ga.ErrCode, ga.DebugData())
	}
	if _, err := c.until(t, 5*time.Second, func(http2.Frame) bool { return false }); err == nil {
		t.Errorf("connection still open after GOAWAY")
	}
}

// TestConnectionTimeout: a connection that never completes the HTTP/2
// handshake is closed after the connection timeout.
func TestConnectionTimeout(t *testing.T) {
	t.Parallel()
	const bound = 300 * time.Millisecond
	e := newEnv(t, withTransport(server.TransportLimits{ConnectionTimeout: bound}))
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	_, err = io.Copy(io.Discard, c)
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a silent connection was still open after %v; want it closed after about %v", took, bound)
	}
	if took < bound/2 || took > bound+5*time.Second {
		t.Errorf("silent connection closed after %v; want about %v", took, bound)
	}
}
