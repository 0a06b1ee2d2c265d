package daemon_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/tlsconfig"
	"tokenauthority/tlsconfig/certtest"
)

// The alert rules and the dashboard shipped in deploy/.
const (
	alertRulesFile = "../deploy/alerts/tokenauthority.rules.yml"
	dashboardFile  = "../deploy/grafana/tokenauthority.json"
)

// prometheusOwn are the series Prometheus makes itself for every target,
// which no server exports.
var prometheusOwn = []string{"up"}

// TestDeployedExpressionsUseExportedMetrics starts a daemon on etcd with
// TLS (so that the staleness and certificate gauges exist), makes it
// validate, check access and verify its audit log, scrapes /metrics, and
// checks that every metric name of every alert rule and dashboard
// expression is one it exports.
func TestDeployedExpressionsUseExportedMetrics(t *testing.T) {
	t.Parallel()
	exprs := alertExpressions(t)
	exprs = append(exprs, dashboardExpressions(t)...)
	if len(exprs) < 20 {
		t.Fatalf("read only %d expressions from %s and %s", len(exprs), alertRulesFile, dashboardFile)
	}

	c := etcdtest.Start(t, etcdtest.Options{Members: 1})
	dir := t.TempDir()
	ca := certtest.NewCA(t, dir, "test")
	srv := ca.Server(t, "server")
	cfg := testConfig(t)
	cfg.Store = "etcd"
	cfg.Etcd.Endpoints = c.Endpoints()
	cfg.Etcd.Prefix = "/observability/"
	cfg.TLSCert, cfg.TLSKey = srv.CertFile, srv.KeyFile
	d, _ := start(t, cfg)
	clientTLS, err := tlsconfig.Client(tlsconfig.ClientFiles{CAFile: ca.CertFile})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, d.GRPCAddr.String(), clientTLS, cfg.DataDir)

	scrape := func() map[string]*dto.MetricFamily {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}, Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://" + d.HTTPAddr.String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %s", resp.Status)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatalf("parse /metrics: %v", err)
		}
		return fams
	}
	// The audit log is verified in the background at start.
	fams := scrape()
	for deadline := time.Now().Add(20 * time.Second); fams["tokenauthority_audit_chain_ok"] == nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		fams = scrape()
	}

	// The health gauges say what they should of this server.
	notAfter := certNotAfter(t, srv.CertFile)
	for name, want := range map[string]float64{
		"tokenauthority_ready":                                    1,
		"tokenauthority_audit_chain_ok":                           1,
		"tokenauthority_index_max_staleness_seconds":              cfg.Etcd.MaxStaleness.Seconds(),
		"tokenauthority_tls_certificate_expiry_timestamp_seconds": float64(notAfter.Unix()),
	} {
		f := fams[name]
		if f == nil || len(f.GetMetric()) != 1 {
			t.Errorf("%s: %v, want one series", name, f)
			continue
		}
		if got := f.GetMetric()[0].GetGauge().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	for _, e := range exprs {
		names := metricNames(e.expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric name found in %q", e.where, e.expr)
		}
		for _, n := range names {
			if !exported(fams, n) {
				t.Errorf("%s: %q uses %s, which the server does not export", e.where, e.expr, n)
			}
		}
	}
}

// exercise creates a valid token and checks it, so that the request and
// decision metrics have series.
func exercise(t *testing.T, addr string, tlsCfg *tls.Config, dataDir string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(adminCtx(t, dataDir), 20*time.Second)
	defer cancel()
	created := validAcmeToken(ctx, t, conn)
	if _, err := pb.NewTokenServiceClient(conn).CheckAccess(ctx, &pb.CheckAccessRequest{Secret: created.GetSecret(), Zoo: "acme/models", Operation: pb.Operation_OPERATION_DOWNLOAD}); err != nil {
		t.Fatalf("CheckAccess: %v", err)
	}
}

// validAcmeToken creates workspace acme, its member alice and a token of
// hers with an admin ctx, and checks that the token validates.
func validAcmeToken(ctx context.Context, t *testing.T, conn *grpc.ClientConn) *pb.CreateTokenResponse {
	t.Helper()
	ws, tokens := pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
	if _, err := ws.CreateWorkspace(ctx, &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if _, err := ws.AddMember(ctx, &pb.AddMemberRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	created, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "laptop"})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	v, err := tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: created.GetSecret()})
	if err != nil {
		t.Fatalf("ValidateToken: %v", err)
	}
	if !v.GetValid() {
		t.Fatalf("ValidateToken(new token) = %v, want valid", v)
	}
	return created
}

// expression is a PromQL expression and where it was found.
type expression struct{ where, expr string }

// alertExpressions reads the expression of every alert rule.
func alertExpressions(t *testing.T) []expression {
	t.Helper()
	raw, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	var out []expression
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			out = append(out, expression{where: "alert " + r.Alert, expr: r.Expr})
		}
	}
	return out
}

// labelValues matches a Grafana variable query label_values(metric, label).
var labelValues = regexp.MustCompile(`^label_values\(\s*([^,]+),\s*\w+\s*\)$`)

// dashboardExpressions reads every "expr" of the dashboard, at any depth
// (panels in rows too), and the metric of every label_values variable.
func dashboardExpressions(t *testing.T) []expression {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []expression
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if title, ok := x["title"].(string); ok {
				where = "dashboard panel " + strconv.Quote(title)
			}
			if e, ok := x["expr"].(string); ok {
				out = append(out, expression{where: where, expr: e})
			}
			if d, ok := x["definition"].(string); ok {
				m := labelValues.FindStringSubmatch(d)
				if m == nil {
					t.Errorf("%s: variable query %q is not label_values(metric, label)", dashboardFile, d)
				} else {
					out = append(out, expression{where: "dashboard variable", expr: m[1]})
				}
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(where, x[k])
			}
		case []any:
			for _, e := range x {
				walk(where, e)
			}
		}
	}
	walk("dashboard", dash)
	return out
}

// exported reports whether a name of an expression is a series the
// scrape has: a family of that name, or the _bucket, _sum or _count series
// of a histogram (or the _sum and _count of a summary) named without the
// suffix, or a series Prometheus makes itself.
func exported(fams map[string]*dto.MetricFamily, name string) bool {
	if slices.Contains(prometheusOwn, name) {
		return true
	}
	if f := fams[name]; f != nil {
		// A histogram's own name is no series.
		return f.GetType() != dto.MetricType_HISTOGRAM && f.GetType() != dto.MetricType_SUMMARY
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch fams[base].GetType() {
		case dto.MetricType_HISTOGRAM:
			return true
		case dto.MetricType_SUMMARY:
			return suffix != "_bucket" && fams[base] != nil
		}
	}
	return false
}

// certNotAfter is the expiry of the first certificate of a PEM file.
func certNotAfter(t *testing.T, path string) time.Time {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.NotAfter
}
