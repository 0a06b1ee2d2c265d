package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// The etcd rows; each name holds "etcd", so --rows etcd selects the three.
const (
	etcdCPURow    = "etcd replica ValidateToken CPU/req ÷ the bbolt build, c=50"
	etcdMemRow    = "etcd replica resident anonymous memory per token ÷ the bbolt build"
	etcdCreateRow = "audited CreateToken/s on a 3-member etcd, c=16 ÷ raw etcd 4-put txns, 16 writers"
)

// spreadOver is how many workspaces beyond bench a store of n tokens
// spreads its tokens over, as the main store does (bench/fill).
func spreadOver(n int) int { return max(0, (n-1000)/10) }

// smallTokens is the tokens of the memory row's small stores: a tenth of
// the big ones', at least 100.
func smallTokens(n int) int { return max(100, n/10) }

// etcdRowNames lists the rows that run on the etcd setup (prepareEtcd)
// and not on the main store.
var etcdRowNames = []string{etcdCPURow, etcdMemRow, etcdCreateRow}

// defaultEtcdTokens caps the tokens of the etcd rows' stores: etcd takes
// audited creates one commit at a time per process (the audit chain), a
// few hundred a second on these machines, so a million would take an
// hour to fill.
const defaultEtcdTokens = 50_000

// etcdTokens is how many tokens each store of the etcd rows holds: asked,
// or the main store's count up to defaultEtcdTokens.
func etcdTokens(asked, mainTokens int) int {
	if asked > 0 {
		return asked
	}
	return min(mainTokens, defaultEtcdTokens)
}

// etcdSetup is what the etcd rows run on: two clusters of three members
// on loopback, one filled without fsync for the replica rows and one that
// fsyncs for the write row; a replica (--store etcd) on the first, a bbolt
// server on a store filled the same way, and a server on the second.
type etcdSetup struct {
	tokens int
	// replicaCluster holds the filled store under replicaPrefix;
	// writeCluster fsyncs its log, as a production member does.
	replicaCluster, writeCluster      *proc
	replicaEndpoints, writeEndpoints  string
	replica, bolt, writer             *proc
	replicaAddr, boltAddr, writerAddr string
	replicaArgs, boltArgs             []string
	// memEtcd and memBolt are the memory row's servers of each side.
	memEtcd, memBolt memSide
	// smallTokens is the tokens of the memory row's small stores.
	smallTokens        int
	files              map[string]string
	fillEtcd, fillBolt float64
	// overEmpty is, for each memory row side, each round's growth of
	// RssAnon from the empty store to the big one, per token.
	overEmpty map[string][]float64
	// createKeys and createBytes are what one CreateToken writes to etcd:
	// its keys, and their keys' and values' bytes; the raw baseline's
	// transactions write as many bytes in 4 puts.
	createKeys, createBytes int
}

const (
	replicaPrefix = "/tokenauthority/"
	emptyPrefix   = "/tokenauthority-empty/"
	smallPrefix   = "/tokenauthority-small/"
	rawPrefix     = "/bench-raw/"
)

// wantsEtcd reports whether any etcd row runs; wantsMain whether any
// other does.
func (b *bench) wantsEtcd() bool {
	for _, n := range etcdRowNames {
		if b.wants(n) {
			return true
		}
	}
	return false
}

func (b *bench) wantsMain() bool {
	for _, r := range b.rows() {
		if !isEtcdRow(r.name) && b.wants(r.name) {
			return true
		}
	}
	return false
}

func isEtcdRow(name string) bool {
	for _, n := range etcdRowNames {
		if n == name {
			return true
		}
	}
	return false
}

// serverArgs are the flags of every server the harness starts, with the
// store's own flags in store.
func (b *bench) serverArgs(dataDir string, store ...string) []string {
	return append([]string{
		"--data-dir", dataDir, "--master-key", b.masterKey, "--credentials-file", b.credsFile,
		"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "json",
		// The gateway decisions come from one address, as a proxy's do; the
		// limiter still runs on each, with a budget the load never reaches.
		"--authz-rate-limit", "10000000", "--authz-rate-burst", "10000000",
	}, store...)
}

func etcdFlags(endpoints, prefix string) []string {
	return []string{"--store", "etcd", "--etcd-endpoints", endpoints, "--etcd-prefix", prefix}
}

// prepareEtcd starts the clusters, fills the stores and starts the
// servers of the etcd rows.
func (b *bench) prepareEtcd(ctx context.Context) error {
	e := &etcdSetup{tokens: etcdTokens(b.etcdTokens, b.tokens), files: map[string]string{}, overEmpty: map[string][]float64{}}
	b.etcd = e
	var err error
	b.progress("starting two 3-member etcd clusters (one without fsync for the replica rows, one with for the write row)")
	if e.replicaCluster, e.replicaEndpoints, err = startProc(ctx, b.logs, b.bin("etcdcluster"),
		[]string{"-dir", filepath.Join(b.work, "etcd-replica"), "-members", "3"}, "endpoints", false); err != nil {
		return err
	}
	if e.writeCluster, e.writeEndpoints, err = startProc(ctx, b.logs, b.bin("etcdcluster"),
		[]string{"-dir", filepath.Join(b.work, "etcd-write"), "-members", "3", "-fsync"}, "endpoints", false); err != nil {
		return err
	}

	boltDir := filepath.Join(b.work, "etcdrows-bbolt")
	fill := func(dataDir string, tokens int, store ...string) (float64, []string, error) {
		return b.fillStore(ctx, dataDir, tokens, store...)
	}
	b.progress("etcd rows: filling a bbolt store with %d tokens (%d more workspaces)", e.tokens, spreadOver(e.tokens))
	fillBolt, boltSecrets, err := fill(boltDir, e.tokens)
	if err != nil {
		return err
	}
	b.progress("etcd rows: filling the etcd store with %d tokens the same way (%.1f s for bbolt)", e.tokens, fillBolt)
	fillEtcd, etcdSecrets, err := fill(filepath.Join(b.work, "etcdrows-etcd"), e.tokens,
		"-store", "etcd", "-etcd-endpoints", e.replicaEndpoints, "-etcd-prefix", replicaPrefix, "-workers", "64")
	if err != nil {
		return err
	}
	e.fillBolt, e.fillEtcd = fillBolt, fillEtcd
	if len(boltSecrets) == 0 || len(etcdSecrets) == 0 {
		return fmt.Errorf("etcd rows: fill wrote no secrets (bbolt %d, etcd %d)", len(boltSecrets), len(etcdSecrets))
	}
	// The memory row's small stores, filled the same way.
	e.smallTokens = smallTokens(e.tokens)
	smallBoltDir := filepath.Join(b.work, "etcdrows-bbolt-small")
	_, smallBoltSecrets, err := fill(smallBoltDir, e.smallTokens)
	if err != nil {
		return err
	}
	b.progress("etcd rows: filling the memory row's small etcd store with %d tokens", e.smallTokens)
	_, smallEtcdSecrets, err := fill(filepath.Join(b.work, "etcdrows-etcd-small"), e.smallTokens,
		"-store", "etcd", "-etcd-endpoints", e.replicaEndpoints, "-etcd-prefix", smallPrefix, "-workers", "64")
	if err != nil {
		return err
	}
	// The write cluster gets the workspace and member the creates need.
	if _, _, err := fill(filepath.Join(b.work, "etcdrows-write"), 0,
		"-store", "etcd", "-etcd-endpoints", e.writeEndpoints, "-etcd-prefix", replicaPrefix); err != nil {
		return err
	}
	memDir := filepath.Join(b.work, "etcdrows-bbolt-mem")
	if err := copyStore(boltDir, memDir); err != nil {
		return err
	}
	type msg = map[string]any
	validate := func(secrets []string) []msg {
		var out []msg
		for _, s := range secrets[:min(1000, len(secrets))] {
			out = append(out, msg{"secret": s})
		}
		return out
	}
	for name, v := range map[string]any{
		"validate-etcd.json":        validate(etcdSecrets),
		"validate-bbolt.json":       validate(boltSecrets),
		"validate-etcd-small.json":  validate(smallEtcdSecrets),
		"validate-bbolt-small.json": validate(smallBoltSecrets),
		"create.json":               msg{"workspace_id": "bench", "user_id": "ann", "description": "load"},
	} {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		path := filepath.Join(b.work, "etcdrows-"+name)
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return err
		}
		e.files[name] = path
	}

	e.boltArgs = b.serverArgs(boltDir)
	e.replicaArgs = b.serverArgs(filepath.Join(b.work, "etcdrows-replica"), etcdFlags(e.replicaEndpoints, replicaPrefix)...)
	e.memBolt = memSide{
		name:  "bbolt build",
		big:   b.serverArgs(memDir),
		small: b.serverArgs(smallBoltDir),
		empty: b.serverArgs(filepath.Join(b.work, "etcdrows-bbolt-empty")),
		data:  [3]string{e.files["validate-bbolt.json"], e.files["validate-bbolt-small.json"], e.files["validate-bbolt.json"]},
	}
	e.memEtcd = memSide{
		name:  "etcd replica",
		big:   b.serverArgs(filepath.Join(b.work, "etcdrows-replica-mem"), etcdFlags(e.replicaEndpoints, replicaPrefix)...),
		small: b.serverArgs(filepath.Join(b.work, "etcdrows-replica-small"), etcdFlags(e.replicaEndpoints, smallPrefix)...),
		empty: b.serverArgs(filepath.Join(b.work, "etcdrows-replica-empty"), etcdFlags(e.replicaEndpoints, emptyPrefix)...),
		data:  [3]string{e.files["validate-etcd.json"], e.files["validate-etcd-small.json"], e.files["validate-etcd.json"]},
	}
	b.progress("etcd rows: starting the bbolt server, the etcd replica and the server on the fsyncing cluster")
	if e.bolt, e.boltAddr, err = startProc(ctx, b.logs, b.bin("tokenauthority"), e.boltArgs, "grpc_addr", true); err != nil {
		return err
	}
	if e.replica, e.replicaAddr, err = startProc(ctx, b.logs, b.bin("tokenauthority"), e.replicaArgs, "grpc_addr", true); err != nil {
		return err
	}
	if e.writer, e.writerAddr, err = startProc(ctx, b.logs, b.bin("tokenauthority"),
		b.serverArgs(filepath.Join(b.work, "etcdrows-writer"), etcdFlags(e.writeEndpoints, replicaPrefix)...), "grpc_addr", true); err != nil {
		return err
	}
	for _, c := range []struct{ addr, secret string }{{e.boltAddr, boltSecrets[0]}, {e.replicaAddr, etcdSecrets[0]}} {
		if err := b.checkValidGRPC(ctx, c.addr, c.secret); err != nil {
			return err
		}
	}
	e.createKeys, e.createBytes, err = b.createFootprint(ctx, e.writerAddr, e.writeEndpoints, replicaPrefix)
	return err
}

// fillStore runs bench/fill into dataDir (the bbolt store, or with store's
// flags the etcd one) with tokens spread as the main store's, and returns
// the seconds the creates took and the secrets of the first 1000.
func (b *bench) fillStore(ctx context.Context, dataDir string, tokens int, store ...string) (float64, []string, error) {
	secrets := filepath.Join(dataDir, "secrets.txt")
	args := append([]string{"-data-dir", dataDir, "-master-key", b.masterKey, "-credentials-file", b.credsFile,
		"-admin-credential", b.adminCred, "-tokens", fmt.Sprint(tokens), "-keep", "1000", "-secrets-out", secrets,
		"-workspaces", fmt.Sprint(spreadOver(tokens))}, store...)
	out, err := execOut(ctx, b.bin("fill"), args...)
	if err != nil {
		return 0, nil, err
	}
	var res struct {
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, nil, fmt.Errorf("fill: %w", err)
	}
	raw, err := os.ReadFile(secrets)
	return res.Seconds, strings.Fields(string(raw)), err
}

func (e *etcdSetup) stop() {
	// Servers before the clusters they use.
	for _, p := range []*proc{e.bolt, e.replica, e.writer, e.replicaCluster, e.writeCluster} {
		if p != nil {
			p.stop()
		}
	}
}

// dial connects to a server's gRPC port.
func dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// checkValidGRPC makes sure secret validates on the server at addr.
func (b *bench) checkValidGRPC(ctx context.Context, addr, secret string) error {
	conn, err := dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+b.validatorCred)
	resp, err := pb.NewTokenServiceClient(conn).ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret})
	if err != nil {
		return fmt.Errorf("validate check on %s: %w", addr, err)
	}
	if !resp.GetValid() {
		return fmt.Errorf("validate check on %s: the filled secrets do not validate (%v)", addr, resp.GetReason())
	}
	return nil
}

// createFootprint creates one token through the server at addr and
// returns the keys the create wrote under prefix and their bytes (keys and
// values): the token record, its index entries, the audit event and the
// chain head.
func (b *bench) createFootprint(ctx context.Context, addr, endpoints, prefix string) (keys, bytes int, err error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return 0, 0, err
	}
	defer cli.Close()
	before, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, 0, fmt.Errorf("create footprint: %w", err)
	}
	conn, err := dial(addr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	cctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+b.adminCred)
	if _, err := pb.NewTokenServiceClient(conn).CreateToken(cctx, &pb.CreateTokenRequest{WorkspaceId: "bench", UserId: "ann", Description: "load"}); err != nil {
		return 0, 0, fmt.Errorf("create footprint: %w", err)
	}
	after, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithMinModRev(before.Header.Revision+1))
	if err != nil {
		return 0, 0, fmt.Errorf("create footprint: %w", err)
	}
	return footprint(after.Kvs)
}

// footprint sums the keys' and values' bytes of the keys one commit
// wrote: those of the earliest revision among kvs, which were all written
// after the commit's start (others were written by later commits, such as
// a last-used record).
func footprint(kvs []*mvccpb.KeyValue) (keys, bytes int, err error) {
	var rev int64
	for _, kv := range kvs {
		if rev == 0 || kv.ModRevision < rev {
			rev = kv.ModRevision
		}
	}
	for _, kv := range kvs {
		if kv.ModRevision == rev {
			keys++
			bytes += len(kv.Key) + len(kv.Value)
		}
	}
	if keys == 0 {
		return 0, 0, fmt.Errorf("create footprint: the create wrote no key")
	}
	return keys, bytes, nil
}

// rows are the etcd rows; their loads read b.etcd when they run.
func (b *bench) etcdRows() []row {
	d := b.duration
	validator := fmt.Sprintf(`{"authorization":"Bearer %s"}`, b.validatorCred)
	admin := fmt.Sprintf(`{"authorization":"Bearer %s"}`, b.adminCred)
	validate := func(addr *string, data string) ghzLoad {
		return ghzLoad{bin: b.bin("ghz"), addr: *addr, call: "tokenauthority.v1.TokenService.ValidateToken",
			dataFile: b.etcd.files[data], metadata: validator, concurrency: 50, duration: d}
	}
	return []row{
		{
			name: etcdCPURow, a: "ValidateToken on an etcd replica", b: "ValidateToken on the bbolt build, same tokens",
			metric: cpuPerOK, target: 1.1, warmB: true,
			runA: func(ctx context.Context) (sample, error) {
				return measured(b.etcd.replica.pid(), func() (sample, error) { return validate(&b.etcd.replicaAddr, "validate-etcd.json").run(ctx) })
			},
			runB: func(ctx context.Context) (sample, error) {
				return measured(b.etcd.bolt.pid(), func() (sample, error) { return validate(&b.etcd.boltAddr, "validate-bbolt.json").run(ctx) })
			},
		},
		{
			name: etcdMemRow, a: "etcd replica", b: "bbolt build",
			metric: bytesPerToken, target: 1.2,
			runA: func(ctx context.Context) (sample, error) { return b.anonPerToken(ctx, b.etcd.memEtcd) },
			runB: func(ctx context.Context) (sample, error) { return b.anonPerToken(ctx, b.etcd.memBolt) },
		},
		{
			name: etcdCreateRow, a: "CreateToken, --store etcd", b: "etcd Txn of 4 puts, 16 writers, same bytes",
			metric: okPerSecond, target: 0.5,
			runA: func(ctx context.Context) (sample, error) {
				g := ghzLoad{bin: b.bin("ghz"), addr: b.etcd.writerAddr, call: "tokenauthority.v1.TokenService.CreateToken",
					dataFile: b.etcd.files["create.json"], metadata: admin, concurrency: 16, duration: d}
				return measured(b.etcd.writer.pid(), func() (sample, error) { return g.run(ctx) })
			},
			runB: func(ctx context.Context) (sample, error) {
				return etcdTxnLoad{bin: b.bin("etcdtxn"), endpoints: b.etcd.writeEndpoints, prefix: rawPrefix,
					writers: 16, puts: 4, bytes: b.etcd.createBytes, duration: d}.run(ctx)
			},
		},
	}
}

// memSide is one side of the memory row: the flags of a server on the
// etcd rows' store (a copy, for bbolt, whose server holds the file's
// lock), on a small store filled the same way and on an empty one, and
// the ghz data file of each one's validation load.
type memSide struct {
	name              string
	big, small, empty []string
	data              [3]string
}

// anonPerToken starts a server on each store of m in turn, puts the same
// validation load on each, and charges the growth of resident anonymous
// memory (RssAnon: the heap, stacks and the index, not the mapped store
// file) from the small store to the big one to the tokens between them:
// what a token costs, without the fixed part of an index (its first slab
// and tables take tens of MiB with a thousand tokens). The growth from
// the empty store is in the detail.
func (b *bench) anonPerToken(ctx context.Context, m memSide) (sample, error) {
	start := time.Now()
	var anon [3]int64
	for i, args := range [][]string{m.big, m.small, m.empty} {
		var err error
		if anon[i], err = b.anonAfterLoad(ctx, args, m.data[i]); err != nil {
			return sample{}, err
		}
	}
	e := b.etcd
	mib := func(v int64) float64 { return float64(v) / (1 << 20) }
	e.overEmpty[m.name] = append(e.overEmpty[m.name], float64(anon[0]-anon[2])/float64(e.tokens))
	return sample{
		ok: int64(e.tokens - e.smallTokens), seconds: time.Since(start).Seconds(), bytes: float64(anon[0] - anon[1]),
		detail: fmt.Sprintf("RssAnon %.1f MiB with %d tokens, %.1f MiB with %d, %.1f MiB empty; %.0f B/token over empty",
			mib(anon[0]), e.tokens, mib(anon[1]), e.smallTokens, mib(anon[2]), float64(anon[0]-anon[2])/float64(e.tokens)),
	}, nil
}

// anonAfterLoad starts a server with args, puts the validation load of
// data on it for one run, and returns its RssAnon at the end.
func (b *bench) anonAfterLoad(ctx context.Context, args []string, dataFile string) (int64, error) {
	p, addr, err := startProc(ctx, b.logs, b.bin("tokenauthority"), args, "grpc_addr", true)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	g := ghzLoad{bin: b.bin("ghz"), addr: addr, call: "tokenauthority.v1.TokenService.ValidateToken",
		dataFile: dataFile, metadata: fmt.Sprintf(`{"authorization":"Bearer %s"}`, b.validatorCred),
		concurrency: 50, duration: b.duration}
	if _, err := g.run(ctx); err != nil {
		return 0, err
	}
	return statusBytes(p.pid(), "RssAnon:")
}

// etcdReport prints what the etcd rows ran on.
func (b *bench) etcdReport(p func(string, ...any)) {
	e := b.etcd
	p("| etcd rows' stores | %d tokens each, filled the same way (bench/fill, in-process CreateToken): bbolt in %.1f s, etcd (3 members, no fsync) in %.1f s | — | |\n",
		e.tokens, e.fillBolt, e.fillEtcd)
	if a, bb := e.overEmpty[e.memEtcd.name], e.overEmpty[e.memBolt.name]; len(a) > 0 && len(bb) > 0 {
		p("| RssAnon per token over an empty store, %s ÷ %s (with the index's fixed part; each round: %s; %s) | %s ÷ %s B = %.2f× | — | |\n",
			e.memEtcd.name, e.memBolt.name, fmtAll(a), fmtAll(bb), fmtNum(median(a)), fmtNum(median(bb)), median(a)/median(bb))
	}
	p("| what one CreateToken writes to etcd (the raw baseline's transaction) | %d keys, %d B (4 puts of %d B, key and value) | — | |\n",
		e.createKeys, e.createBytes, e.createBytes/4)
}
