// Command harness is the driver of bench/run.sh: it fills a store, starts
// the token authority and the bare baselines on loopback, runs every row's
// two sides in alternating rounds with ghz, wrk and boltwrite, charges each
// side the CPU its server process spent per OK request (from
// /proc/<pid>/stat), and prints a markdown table of medians and ratios.
// Run it through bench/run.sh, which builds the binaries it is given.
//
// # How it can hurt you
//
// It saturates both cores for minutes and fsyncs as fast as the disk
// allows; numbers taken while anything else runs on the machine are
// distorted, which is why every row is a ratio to a baseline measured in
// the same rounds. Its servers die with it (SIGKILL on parent death), but
// the work directory holds live secrets until run.sh removes it. The
// tracing row runs a second server on a copy of the store (traced.go):
// with it selected (or no -rows), the store's disk and memory are needed
// twice. The etcd rows (etcd.go) run two more clusters of three etcd
// members (bench/etcdcluster), one fsyncing, three more servers and, for
// each memory round, three short-lived ones, all stopped by PID; their
// fill takes minutes at 50k tokens.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"tokenauthority/credential"
	"tokenauthority/seal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

// config is what run.sh passes.
type config struct {
	bins     string // directory of tokenauthority, grpcbare, httpbare, boltwrite, fill, ghz
	wrk      string
	work     string
	repo     string
	tokens   int
	duration time.Duration
	rounds   int
	smoke    bool
	commit   string
	// etcdTokens is the tokens of the etcd rows' stores; 0 means the
	// main count up to defaultEtcdTokens (etcd.go).
	etcdTokens int
	// rows, when not empty, keeps only the rows whose name contains one
	// of these terms, and leaves the in-process Go benchmarks out.
	rows []string
}

func run(ctx context.Context, args []string) error {
	var c config
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	fs.StringVar(&c.bins, "bins", "", "directory of the built programs")
	fs.StringVar(&c.wrk, "wrk", "wrk", "the wrk binary")
	fs.StringVar(&c.work, "work", "", "scratch directory (data, logs)")
	fs.StringVar(&c.repo, "repo", ".", "repository root, for the Go benchmarks")
	fs.IntVar(&c.tokens, "tokens", 1_000_000, "tokens in the store")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "length of one load run")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds per row (each runs both sides)")
	fs.BoolVar(&c.smoke, "smoke", false, "smoke mode: label the table as such and run the small Go benchmark only")
	fs.StringVar(&c.commit, "commit", "", "commit being measured, for the table header")
	fs.IntVar(&c.etcdTokens, "etcd-tokens", 0, fmt.Sprintf("tokens in each store of the etcd rows (0: -tokens, at most %d)", defaultEtcdTokens))
	rows := fs.String("rows", "", "comma-separated terms: run only the rows whose name contains one (case-insensitive), and no Go benchmarks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, t := range strings.Split(*rows, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.rows = append(c.rows, strings.ToLower(t))
		}
	}
	if c.bins == "" || c.work == "" {
		return errors.New("-bins and -work are required")
	}
	logf, err := os.Create(filepath.Join(c.work, "processes.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	b := &bench{config: c, logs: logf}
	defer b.stopAll()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	results, err := b.runRows(ctx)
	if err != nil {
		return err
	}
	var gobench []goBench
	if len(c.rows) == 0 {
		// The Go benchmark opens the server's store file: stop the server first.
		b.server.stop()
		b.server = nil
		if gobench, err = b.goBenchmarks(ctx); err != nil {
			return err
		}
	}
	return b.report(os.Stdout, results, gobench)
}

// bench holds the running processes and what the rows need.
type bench struct {
	config
	logs io.Writer

	adminCred, validatorCred   string
	server, grpcbare, httpbare *proc
	// traced is a second server, on a copy of the store, with tracing on
	// (traced.go); nil unless its row runs.
	traced                      *proc
	tracedGRPCAddr              string
	sink                        *otlpSink
	grpcAddr, httpAddr          string
	grpcbareAddr, httpbareAddr  string
	startSeconds                float64
	fillSeconds                 float64
	rssStart, rssEnd, fileBytes int64
	// rssFileEnd is the part of rssEnd that is mapped file pages (the
	// store's pages the process touched), the rest is its own memory.
	rssFileEnd int64
	files      map[string]string
	dataDir    string
	// mainPrepared is set once the main store is filled and served: not
	// when only etcd rows run.
	mainPrepared         bool
	masterKey, credsFile string
	// etcd is what the etcd rows run on (etcd.go); nil unless one runs.
	etcd *etcdSetup
}

func (b *bench) bin(name string) string { return filepath.Join(b.bins, name) }

func (b *bench) stopAll() {
	for _, p := range []*proc{b.server, b.grpcbare, b.httpbare, b.traced} {
		if p != nil {
			p.stop()
		}
	}
	if b.etcd != nil {
		b.etcd.stop()
	}
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// prepare writes credentials and a master key, fills the store, and starts
// the server and the baselines; and does the same for the etcd rows when
// one runs (prepareEtcd).
func (b *bench) prepare(ctx context.Context) error {
	if err := b.writeSecrets(); err != nil {
		return err
	}
	if b.wantsMain() {
		if err := b.prepareMain(ctx); err != nil {
			return err
		}
	}
	if b.wantsEtcd() {
		return b.prepareEtcd(ctx)
	}
	return nil
}

// writeSecrets makes the credentials file, the two credentials it names
// and the master key every server of the run is started with.
func (b *bench) writeSecrets() error {
	var err error
	if b.adminCred, err = credential.NewSecret(); err != nil {
		return err
	}
	if b.validatorCred, err = credential.NewSecret(); err != nil {
		return err
	}
	b.credsFile = filepath.Join(b.work, "credentials.json")
	if err := os.WriteFile(b.credsFile, []byte(b.credentialsJSON()), 0o600); err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	b.masterKey = seal.FormatKey(key)
	return nil
}

func (b *bench) credentialsJSON() string {
	return fmt.Sprintf(`{"credentials":[{"name":"bench-admin","role":"admin","sha256":%q},{"name":"bench-validator","role":"validator","sha256":%q}]}`,
		credential.HashHex(b.adminCred), credential.HashHex(b.validatorCred))
}

// prepareMain fills the main store and starts the server on it and the
// bare baselines.
func (b *bench) prepareMain(ctx context.Context) error {
	masterKey, credsFile, creds := b.masterKey, b.credsFile, b.credentialsJSON()
	dataDir := filepath.Join(b.work, "data")
	// The Go benchmark reuses this directory (TOKENAUTHORITY_BENCH_STORE).
	b.dataDir = dataDir
	secretsFile := filepath.Join(dataDir, "secrets.txt")

	// A hub's tokens belong to many workspaces: beyond the first 1000 (the
	// load's, in workspace bench), ten a workspace of two members, so that
	// the membership and workspace lookups of each validation run over as
	// many entries as a hub of this size holds.
	spread := max(0, (b.tokens-1000)/10)
	b.progress("filling the store with %d tokens (%d more workspaces)", b.tokens, spread)
	out, err := execOut(ctx, b.bin("fill"), "-data-dir", dataDir, "-master-key", masterKey,
		"-credentials-file", credsFile, "-admin-credential", b.adminCred,
		"-tokens", fmt.Sprint(b.tokens), "-keep", fmt.Sprint(b.tokens), "-secrets-out", secretsFile,
		"-workspaces", fmt.Sprint(spread))
	if err != nil {
		return err
	}
	var fill struct {
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out, &fill); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	b.fillSeconds = fill.Seconds
	// The fill does not fsync: the kernel would write its pages back while
	// the first rows run, slowing the rows that fsync, the more the bigger
	// the file. Written back now, before any row.
	if err := syncFile(filepath.Join(dataDir, "tokenauthority.db")); err != nil {
		return err
	}
	st, err := os.Stat(filepath.Join(dataDir, "tokenauthority.db"))
	if err != nil {
		return err
	}
	b.fileBytes = st.Size()
	raw, err := os.ReadFile(secretsFile)
	if err != nil {
		return err
	}
	secrets := strings.Fields(string(raw))
	if len(secrets) == 0 {
		return errors.New("fill wrote no secrets")
	}
	if err := os.WriteFile(filepath.Join(dataDir, "credentials.json"), []byte(creds), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, "validator.credential"), []byte(b.validatorCred), 0o600); err != nil {
		return err
	}
	if err := b.writeLoadFiles(secrets[:min(1000, len(secrets))]); err != nil {
		return err
	}

	serverArgs := func(dataDir string) []string { return b.serverArgs(dataDir) }
	// The traced server gets a copy of the store as filled, before the
	// first server writes to it.
	tracedDir := filepath.Join(b.work, "data-traced")
	if b.wants(tracedRow) {
		if err := copyStore(dataDir, tracedDir); err != nil {
			return err
		}
	}
	b.progress("starting the server")
	t0 := time.Now()
	b.server, b.grpcAddr, err = startProc(ctx, b.logs, b.bin("tokenauthority"), serverArgs(dataDir), "grpc_addr", true)
	if err != nil {
		return err
	}
	b.startSeconds = time.Since(t0).Seconds()
	if b.httpAddr, err = b.serverHTTPAddr(); err != nil {
		return err
	}
	if err := b.checkValid(ctx, secrets[0]); err != nil {
		return err
	}
	if err := b.checkGateways(ctx, secrets[0]); err != nil {
		return err
	}
	if b.rssStart, err = rssBytes(b.server.pid()); err != nil {
		return err
	}
	if b.wants(tracedRow) {
		if err := b.startTraced(ctx, serverArgs(tracedDir)); err != nil {
			return err
		}
	}
	if b.grpcbare, b.grpcbareAddr, err = startProc(ctx, b.logs, b.bin("grpcbare"), nil, "addr", false); err != nil {
		return err
	}
	if b.httpbare, b.httpbareAddr, err = startProc(ctx, b.logs, b.bin("httpbare"), nil, "addr", false); err != nil {
		return err
	}
	b.mainPrepared = true
	return nil
}

// serverHTTPAddr finds the HTTP address in the server's start-up record,
// which the log holds by the time the gRPC address was read.
func (b *bench) serverHTTPAddr() (string, error) {
	raw, err := os.ReadFile(filepath.Join(b.work, "processes.log"))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(raw)) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			if v, ok := rec["http_addr"].(string); ok {
				return v, nil
			}
		}
	}
	return "", errors.New("server logged no http_addr")
}

// checkValid makes sure the load's secrets are valid tokens: a load of
// refused secrets would measure the wrong path (both transports answer OK
// with valid=false).
func (b *bench) checkValid(ctx context.Context, secret string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+b.httpAddr+"/v1/tokens:validate",
		strings.NewReader(fmt.Sprintf(`{"secret":%q}`, secret)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.validatorCred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v struct {
		Valid bool `json:"valid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return fmt.Errorf("validate check: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !v.Valid {
		return fmt.Errorf("validate check: status %d, valid %v: the filled secrets do not validate", resp.StatusCode, v.Valid)
	}
	return nil
}

// writeLoadFiles writes the ghz data files and the wrk script.
func (b *bench) writeLoadFiles(secrets []string) error {
	b.files = map[string]string{}
	type msg = map[string]any
	var validate, access []msg
	var bodies, quoted []string
	var checks []any
	for _, s := range secrets {
		checks = append(checks, envoyCheck(s))
		quoted = append(quoted, fmt.Sprintf("'%s'", s))
		validate = append(validate, msg{"secret": s})
		access = append(access, msg{"secret": s, "zoo": "bench/models", "operation": "OPERATION_CLOUD_INFERENCE"})
		bodies = append(bodies, fmt.Sprintf("'{\"secret\":\"%s\"}'", s))
	}
	data := map[string]any{
		"authz.json":    checks,
		"validate.json": validate,
		"access.json":   access,
		"create.json":   msg{"workspace_id": "bench", "user_id": "ann", "description": "load"},
		"health.json":   msg{},
	}
	for name, v := range data {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		path := filepath.Join(b.work, name)
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return err
		}
		b.files[name] = path
	}
	script := fmt.Sprintf(`wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
local bodies = { %s }
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
`, b.validatorCred, strings.Join(bodies, ",\n"))
	path := filepath.Join(b.work, "validate.lua")
	b.files["validate.lua"] = path
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return err
	}
	// nginx's auth_request subrequest: a GET of /v1/authz without a body,
	// carrying the client's headers and the original URI and method.
	authz := fmt.Sprintf(`wrk.method = "GET"
wrk.headers["X-Original-URI"] = %q
wrk.headers["X-Original-Method"] = "POST"
wrk.headers["User-Agent"] = "python-requests/2.32.3"
wrk.headers["Accept"] = "*/*"
wrk.headers["X-Real-IP"] = "10.0.0.7"
local tokens = { %s }
local i = 0
request = function()
  i = i %% #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format()
end
`, gatewayPath, strings.Join(quoted, ",\n"))
	path = filepath.Join(b.work, "authz.lua")
	b.files["authz.lua"] = path
	return os.WriteFile(path, []byte(authz), 0o600)
}

// gatewayPath is a request the default gateway rules map to cloud
// inference on the filled store's zoo, which its tokens may reach.
const gatewayPath = "/zoo/v1/inference/bench/models/v1/chat/completions"

// envoyCheck is the CheckRequest Envoy's ext_authz filter sends for a
// client's POST to gatewayPath (in protojson, for ghz): the source and
// destination addresses and the request's method, path and headers, the
// token among them.
func envoyCheck(secret string) map[string]any {
	type msg = map[string]any
	return msg{"attributes": msg{
		"source":      msg{"address": msg{"socketAddress": msg{"address": "10.0.0.7", "portValue": 41234}}},
		"destination": msg{"address": msg{"socketAddress": msg{"address": "10.0.0.2", "portValue": 443}}},
		"request": msg{"http": msg{
			"id": "8431570928745628342", "method": "POST", "path": gatewayPath, "host": "hub.example",
			"scheme": "https", "protocol": "HTTP/1.1",
			"headers": msg{
				":authority": "hub.example", ":method": "POST", ":path": gatewayPath, ":scheme": "https",
				"authorization": "Bearer " + secret, "content-type": "application/json",
				"user-agent": "python-requests/2.32.3", "accept": "*/*",
				"x-forwarded-proto": "https", "x-request-id": "1f0c5a52-8e0d-4c43-9d0b-8d2f4f0a6b1e",
			},
		}},
	}}
}

func execOut(ctx context.Context, bin string, args ...string) ([]byte, error) {
	cmd := execCommand(ctx, bin, args...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(bin), withStderr(err))
	}
	return out, nil
}
