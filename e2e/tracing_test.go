package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"tokenauthority/access"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// traceparent is a W3C trace context header value of a new sampled trace,
// and that trace's id in hex.
func traceparent(t *testing.T) (header, traceID string) {
	t.Helper()
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	traceID = hex.EncodeToString(b[:16])
	return "00-" + traceID + "-" + hex.EncodeToString(b[16:]) + "-01", traceID
}

// tracedCalls makes, each in a trace of its own, a gRPC ValidateToken, a
// REST validation, an Envoy Check (the traceparent only in the client's
// HTTP headers it describes), the SDK's seed pick and token info (the
// secret in the path), and returns the trace ids by call and every secret
// the server was given or gave.
func tracedCalls(t *testing.T, p *proc) (traces map[string]string, secrets map[string]string) {
	t.Helper()
	api := adminAPI(t, p)
	api("POST", "/v1/workspaces", `{"workspace_id":"acme"}`)
	api("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`)
	api("POST", "/v1/workspaces/acme/zoos", `{"zoo_id":"priv","visibility":"VISIBILITY_PRIVATE"}`)
	created := api("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"traced"}`)
	seedBytes := make([]byte, 16)
	if _, err := rand.Read(seedBytes); err != nil {
		t.Fatal(err)
	}
	seed := hex.EncodeToString(seedBytes)
	api("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"seeded","seed":"`+seed+`"}`)
	secrets = map[string]string{"token secret": secret(created), "seed": seed, "admin credential": p.admin}
	traces = map[string]string{"token id": tokenID(created)}

	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	tp, id := traceparent(t)
	traces["grpc"] = id
	gctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.admin, "traceparent", tp)
	v, err := pb.NewTokenServiceClient(conn).ValidateToken(gctx, &pb.ValidateTokenRequest{Secret: secret(created)})
	if err != nil {
		t.Fatalf("ValidateToken: %v", err)
	}
	if !v.GetValid() {
		t.Fatalf("ValidateToken = %v; want valid", v)
	}

	tp, id = traceparent(t)
	traces["rest"] = id
	body := fmt.Sprintf(`{"secret":%q}`, secret(created))
	status, _, out := request(t, "POST", "http://"+p.httpAddr+"/v1/tokens:validate",
		http.Header{"Authorization": {"Bearer " + p.admin}, "Content-Type": {"application/json"}, "Traceparent": {tp}}, body)
	if status != http.StatusOK {
		t.Fatalf("REST validate: %d %s", status, out)
	}

	tp, id = traceparent(t)
	traces["envoy"] = id
	check, err := authv3.NewAuthorizationClient(conn).Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{
			Method: "POST", Path: "/zoo/v1/inference/acme/priv/v1/chat", Host: "hub.example",
			Headers: map[string]string{"authorization": "Bearer " + secret(created), "traceparent": tp},
		}},
	}})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if check.GetOkResponse() == nil {
		t.Fatalf("Check = %v; want an ok response", check)
	}

	tp, id = traceparent(t)
	traces["seed pick"] = id
	status, _, out = request(t, "POST", "http://"+p.httpAddr+"/api/v1/tokens-seed/pick",
		http.Header{"Content-Type": {"application/json"}, "Traceparent": {tp}}, `{"seed":"`+seed+`"}`)
	if status != http.StatusOK {
		t.Fatalf("seed pick: %d %s", status, out)
	}
	var picked struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &picked); err != nil || picked.Token == "" {
		t.Fatalf("seed pick = %s (%v); want a token", out, err)
	}
	secrets["picked token secret"] = picked.Token

	tp, id = traceparent(t)
	traces["token info"] = id
	// As the SDK sends it: the secret in the path and in its token header.
	status, _, out = request(t, "GET", "http://"+p.httpAddr+"/api/v1/tokens/"+secret(created)+"/info",
		http.Header{"Traceparent": {tp}, "Token": {secret(created)}, "Dg_version": {"1.5.0"}})
	if status != http.StatusOK {
		t.Fatalf("token info: %d %s", status, out)
	}
	return traces, secrets
}

// TestTracingExportsDecisionSpans runs the server with tracing configured
// by the OTEL_* environment towards an OTLP receiver, over gRPC and over
// HTTP: each traced call yields spans in the caller's trace, the decision
// among them with the token's ids and the reason, the spans are flushed at
// shutdown, and no exported byte holds a secret, a seed or a credential.
func TestTracingExportsDecisionSpans(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			recv, err := startOTLP(t, protocol, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			p := startServerEnv(t, []string{
				"OTEL_TRACES_EXPORTER=otlp",
				"OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + recv.addr,
				// Only the callers' sampled traces: the set-up calls,
				// which carry none, export nothing.
				"OTEL_TRACES_SAMPLER=parentbased_traceidratio",
				"OTEL_TRACES_SAMPLER_ARG=0",
				// Nothing is sent before shutdown, which must flush.
				"OTEL_BSP_SCHEDULE_DELAY=600000",
			}, t.TempDir())
			traces, secrets := tracedCalls(t, p)
			if n := len(recv.spans()); n != 0 {
				t.Fatalf("%d spans exported before shutdown; the test needs the batch held until then", n)
			}
			p.stop(t)

			byTrace := map[string][]*tracepb.Span{}
			for _, s := range recv.spans() {
				id := hex.EncodeToString(s.GetTraceId())
				byTrace[id] = append(byTrace[id], s)
			}
			for call, id := range traces {
				if call != "token id" && len(byTrace[id]) == 0 {
					t.Errorf("%s: no span in the caller's trace %s", call, id)
				}
			}
			for id := range byTrace {
				if !slices.Contains(slices.Collect(maps.Values(traces)), id) {
					t.Errorf("spans of trace %s, which no caller sampled: %v", id, spanNames(byTrace[id]))
				}
			}
			wantDecision := []struct {
				call, span string
				extra      map[string]string
			}{
				{"grpc", access.SpanResolve, nil},
				{"rest", access.SpanResolve, nil},
				{"envoy", access.SpanDecide, map[string]string{string(access.AttrAllowed): "true", string(access.AttrZoo): "acme/priv"}},
			}
			for _, w := range wantDecision {
				d := findSpan(byTrace[traces[w.call]], w.span)
				if d == nil {
					t.Errorf("%s: no %s span among %v", w.call, w.span, spanNames(byTrace[traces[w.call]]))
					continue
				}
				want := map[string]string{
					string(access.AttrWorkspaceID): "acme",
					string(access.AttrTokenID):     traces["token id"],
					string(access.AttrReason):      "REASON_VALID",
				}
				for k, v := range w.extra {
					want[k] = v
				}
				for k, v := range want {
					if got := attr(d, k); got != v {
						t.Errorf("%s: %s attribute %s = %q, want %q", w.call, w.span, k, got, v)
					}
				}
			}
			for call, name := range map[string]string{
				"grpc":       "tokenauthority.v1.TokenService/ValidateToken",
				"rest":       "POST /v1/tokens:validate",
				"token info": "GET /api/v1/tokens/{token}/info",
			} {
				if findSpan(byTrace[traces[call]], name) == nil {
					t.Errorf("%s: no span named %q among %v", call, name, spanNames(byTrace[traces[call]]))
				}
			}

			// Every string of every export request: span names,
			// attributes, events, links, status messages, resource.
			for _, req := range recv.exported() {
				raw, err := proto.Marshal(req)
				if err != nil {
					t.Fatal(err)
				}
				for what, s := range secrets {
					if bytes.Contains(raw, []byte(s)) {
						t.Errorf("an exported span holds the %s", what)
					}
				}
			}
		})
	}
}

// TestTracingOffByDefault: with no OTEL_* variable the server exports
// nothing and connects to no collector, even for calls carrying a sampled
// traceparent, while the OTLP default endpoints (localhost:4317 for gRPC,
// :4318 for HTTP) are listening; with only OTEL_TRACES_EXPORTER=otlp it
// does reach the default endpoint, which shows the check can fail.
func TestTracingOffByDefault(t *testing.T) {
	grpcRecv, err := startOTLP(t, "grpc", "127.0.0.1:4317")
	if err != nil {
		t.Fatalf("listen on the OTLP/gRPC default port, which this test needs free: %v", err)
	}
	httpRecv, err := startOTLP(t, "http/protobuf", "127.0.0.1:4318")
	if err != nil {
		t.Fatalf("listen on the OTLP/HTTP default port, which this test needs free: %v", err)
	}
	for _, tc := range []struct {
		name  string
		env   []string
		wantN bool
	}{
		{"no OTEL variable", nil, false},
		{"only a sampler", []string{"OTEL_TRACES_SAMPLER=always_on"}, false},
		{"exporter none", []string{"OTEL_TRACES_EXPORTER=none", "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"}, false},
		{"SDK disabled", []string{"OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=otlp"}, false},
		{"exporter otlp, default endpoint", []string{"OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_INSECURE=true"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := grpcRecv.conns.Load() + httpRecv.conns.Load()
			spansBefore := len(grpcRecv.spans()) + len(httpRecv.spans())
			p := startServerEnv(t, tc.env, t.TempDir())
			tracedCalls(t, p)
			p.stop(t)
			conns := grpcRecv.conns.Load() + httpRecv.conns.Load() - before
			spans := len(grpcRecv.spans()) + len(httpRecv.spans()) - spansBefore
			if got := conns > 0 && spans > 0; got != tc.wantN {
				t.Errorf("connections to the default endpoints %d, spans %d; want exported %v\n%s", conns, spans, tc.wantN, p.logs)
			}
			if !tc.wantN && conns != 0 {
				t.Errorf("%d connections to an OTLP default endpoint with tracing off", conns)
			}
		})
	}
}

func findSpan(spans []*tracepb.Span, name string) *tracepb.Span {
	for _, s := range spans {
		if s.GetName() == name {
			return s
		}
	}
	return nil
}

func spanNames(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.GetName())
	}
	return out
}

// attr is a span attribute's value as text ("" when absent).
func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return anyValue(kv.GetValue())
		}
	}
	return ""
}

func anyValue(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	}
	return fmt.Sprint(v)
}

// TestTracingCollectorDown: a collector that is not there costs spans,
// never requests: the traced calls are answered, and SIGTERM still ends
// the server cleanly and promptly (the flush gives up after 5 s).
func TestTracingCollectorDown(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			p := startServerEnv(t, []string{
				"OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + freePort(t),
			}, t.TempDir())
			tracedCalls(t, p)
			start := time.Now()
			p.stop(t)
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("shutdown took %v with the collector down", d)
			}
		})
	}
}
