package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// tracedRow is the name of the row that compares ValidateToken on a server
// tracing 1% of its calls with the same call on the server with tracing
// off.
const tracedRow = "gRPC ValidateToken, tracing on at 1%, c=50"

// tracingEnv turns tracing on the way an operator would: OTLP over gRPC to
// the sink, a root span for 1 call in 100 (the load sends no traceparent).
func tracingEnv(sinkAddr string) []string {
	return append(os.Environ(),
		"OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+sinkAddr,
		"OTEL_TRACES_SAMPLER=parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG=0.01",
	)
}

// wants reports whether the row of that name runs.
func (b *bench) wants(name string) bool {
	return len(b.config.rows) == 0 || slices.ContainsFunc(b.config.rows, func(t string) bool { return strings.Contains(strings.ToLower(name), t) })
}

// startTraced starts the OTLP sink and a second server with args and
// tracing on.
func (b *bench) startTraced(ctx context.Context, args []string) error {
	sink, err := startSink()
	if err != nil {
		return err
	}
	b.sink = sink
	b.progress("starting the traced server (OTLP/gRPC to %s, 1%% sampled)", sink.addr)
	b.traced, b.tracedGRPCAddr, err = startProcEnv(ctx, b.logs, b.bin("tokenauthority"), args, tracingEnv(sink.addr), "grpc_addr", true)
	return err
}

// copyStore copies the store file of dir into a new directory to.
func copyStore(dir, to string) error {
	if err := os.MkdirAll(to, 0o700); err != nil {
		return err
	}
	src, err := os.Open(filepath.Join(dir, "tokenauthority.db"))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(to, "tokenauthority.db"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy the store: %w", err)
	}
	// On disk before the rows run, as the original is (syncFile).
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("copy the store: %w", err)
	}
	return dst.Close()
}

// syncFile writes the file's pages to disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// otlpSink is an OTLP/gRPC trace receiver that counts and drops spans, in
// the harness's process so that its work is not charged to the server.
type otlpSink struct {
	collectortrace.UnimplementedTraceServiceServer
	addr  string
	spans atomic.Int64
}

func startSink() (*otlpSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &otlpSink{addr: l.Addr().String()}
	g := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(g, s)
	// It serves until the harness exits.
	go func() { _ = g.Serve(l) }()
	return s, nil
}

func (s *otlpSink) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	var n int64
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += int64(len(ss.GetSpans()))
		}
	}
	s.spans.Add(n)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}
