package e2e_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OpenTelemetry collector's trace receiver, over
// OTLP/gRPC or OTLP/HTTP (protobuf), that keeps what it is sent.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	addr  string
	conns atomic.Int64 // connections accepted

	mu   sync.Mutex
	reqs []*collectortrace.ExportTraceServiceRequest
}

// startOTLP serves the protocol ("grpc" or "http/protobuf", as
// OTEL_EXPORTER_OTLP_PROTOCOL names them) on addr until the test ends.
func startOTLP(t *testing.T, protocol, addr string) (*otlpReceiver, error) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &otlpReceiver{addr: l.Addr().String()}
	cl := &countingListener{Listener: l, n: &r.conns}
	switch protocol {
	case "grpc":
		s := grpc.NewServer()
		collectortrace.RegisterTraceServiceServer(s, r)
		go s.Serve(cl)
		t.Cleanup(s.Stop)
	case "http/protobuf":
		s := &http.Server{Handler: http.HandlerFunc(r.serveHTTP)}
		go s.Serve(cl)
		t.Cleanup(func() { s.Close() })
	default:
		l.Close()
		return nil, errors.New("unknown OTLP protocol " + protocol)
	}
	return r, nil
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.keep(req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// serveHTTP is the OTLP/HTTP endpoint, POST /v1/traces.
func (r *otlpReceiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /v1/traces in application/x-protobuf", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var m collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.keep(&m)
	out, err := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (r *otlpReceiver) keep(req *collectortrace.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
}

// exported returns every request received so far.
func (r *otlpReceiver) exported() []*collectortrace.ExportTraceServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*collectortrace.ExportTraceServiceRequest(nil), r.reqs...)
}

// spans returns every span received so far.
func (r *otlpReceiver) spans() []*tracepb.Span {
	var out []*tracepb.Span
	for _, req := range r.exported() {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				out = append(out, ss.GetSpans()...)
			}
		}
	}
	return out
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}
