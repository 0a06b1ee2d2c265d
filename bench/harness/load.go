package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// sample is one load run: requests answered OK, how long the run took, the
// CPU the measured process spent meanwhile (0 when not measured), and the CPU
// the load generator itself spent (0 when it runs in the measured process).
type sample struct {
	ok        int64
	seconds   float64
	cpu       float64
	clientCPU float64
	// bytes is memory charged to the ok items (tokens), for a
	// bytesPerToken row; detail then says what it was measured from.
	bytes  float64
	detail string
}

// measured runs load and charges the CPU pid spent during it.
func measured(pid int, load func() (sample, error)) (sample, error) {
	before, err := cpuSeconds(pid)
	if err != nil {
		return sample{}, err
	}
	s, err := load()
	if err != nil {
		return sample{}, err
	}
	after, err := cpuSeconds(pid)
	if err != nil {
		return sample{}, err
	}
	s.cpu = after - before
	return s, nil
}

// load describes the load a run put on the server: its rate of OK requests
// and, for an external generator, the generator's own CPU per OK request. A
// side whose generator costs more per request offers fewer requests at once,
// so each server wake-up serves fewer of them.
func (s sample) load() string {
	if s.detail != "" {
		return s.detail
	}
	rate := fmt.Sprintf("%.0f OK/s", float64(s.ok)/s.seconds)
	if s.clientCPU == 0 {
		return rate
	}
	return fmt.Sprintf("%s; load generator %.1f µs CPU/req", rate, s.clientCPU/float64(s.ok)*1e6)
}

// runOut runs a load generator and returns its output and the CPU it spent.
func runOut(ctx context.Context, bin string, args ...string) ([]byte, float64, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, withStderr(err)
	}
	st := cmd.ProcessState
	return out, (st.UserTime() + st.SystemTime()).Seconds(), nil
}

// ghzLoad is one ghz run of a unary call.
type ghzLoad struct {
	bin, addr, call, dataFile, metadata string
	concurrency                         int
	duration                            time.Duration
}

func (g ghzLoad) run(ctx context.Context) (sample, error) {
	args := []string{
		"--insecure", "--call", g.call, "--data-file", g.dataFile,
		"-c", strconv.Itoa(g.concurrency), "-z", g.duration.String(),
		"--format", "json", "--connections", "1",
		// The data files use no templates. Without these ghz builds a
		// template with every function it offers for each call, which
		// costs it more CPU than the server spends on the call.
		"--disable-template-functions", "--disable-template-data",
	}
	if g.metadata != "" {
		args = append(args, "--metadata", g.metadata)
	}
	args = append(args, g.addr)
	out, clientCPU, err := runOut(ctx, g.bin, args...)
	if err != nil {
		return sample{}, fmt.Errorf("ghz %s: %w", g.call, err)
	}
	var rep struct {
		Count        int64            `json:"count"`
		Total        int64            `json:"total"` // nanoseconds
		StatusCodes  map[string]int64 `json:"statusCodeDistribution"`
		ErrorsByText map[string]int64 `json:"errorDistribution"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return sample{}, fmt.Errorf("ghz %s: read report: %w", g.call, err)
	}
	ok := rep.StatusCodes["OK"]
	if ok == 0 {
		return sample{}, fmt.Errorf("ghz %s: no OK responses (%v, %v)", g.call, rep.StatusCodes, rep.ErrorsByText)
	}
	return sample{ok: ok, seconds: float64(rep.Total) / 1e9, clientCPU: clientCPU}, nil
}

// wrkLoad is one wrk run of a Lua script.
type wrkLoad struct {
	bin, url, script string
	concurrency      int
	duration         time.Duration
}

var (
	wrkTotal  = regexp.MustCompile(`(\d+) requests in ([0-9.]+)(us|ms|s|m)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

func (w wrkLoad) run(ctx context.Context) (sample, error) {
	out, clientCPU, err := runOut(ctx, w.bin, "-t", "2", "-c", strconv.Itoa(w.concurrency),
		"-d", fmt.Sprintf("%ds", int(w.duration.Seconds())), "-s", w.script, w.url)
	if err != nil {
		return sample{}, fmt.Errorf("wrk %s: %w", w.url, err)
	}
	m := wrkTotal.FindSubmatch(out)
	if m == nil {
		return sample{}, fmt.Errorf("wrk %s: no request count in %q", w.url, out)
	}
	total, _ := strconv.ParseInt(string(m[1]), 10, 64)
	secs, _ := strconv.ParseFloat(string(m[2]), 64)
	switch string(m[3]) {
	case "us":
		secs /= 1e6
	case "ms":
		secs /= 1e3
	case "m":
		secs *= 60
	}
	var bad int64
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		bad, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if total-bad <= 0 {
		return sample{}, fmt.Errorf("wrk %s: no 2xx responses:\n%s", w.url, out)
	}
	return sample{ok: total - bad, seconds: secs, clientCPU: clientCPU}, nil
}

// boltLoad is one run of the bbolt write baseline.
type boltLoad struct {
	bin, dir, mode   string
	writers, prefill int
	duration         time.Duration
}

func (b boltLoad) run(ctx context.Context) (sample, error) {
	out, err := exec.CommandContext(ctx, b.bin, "-mode", b.mode, "-writers", strconv.Itoa(b.writers),
		"-dir", b.dir, "-duration", b.duration.String(), "-prefill", strconv.Itoa(b.prefill)).Output()
	if err != nil {
		return sample{}, fmt.Errorf("boltwrite: %w", withStderr(err))
	}
	return writesSample("boltwrite", out)
}

func withStderr(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, ee.Stderr)
	}
	return err
}

// etcdTxnLoad is one run of the raw etcd write baseline.
type etcdTxnLoad struct {
	bin, endpoints, prefix string
	writers, puts, bytes   int
	duration               time.Duration
}

func (e etcdTxnLoad) run(ctx context.Context) (sample, error) {
	out, err := execCommand(ctx, e.bin, "-endpoints", e.endpoints, "-prefix", e.prefix,
		"-writers", strconv.Itoa(e.writers), "-puts", strconv.Itoa(e.puts), "-bytes", strconv.Itoa(e.bytes),
		"-duration", e.duration.String()).Output()
	if err != nil {
		return sample{}, fmt.Errorf("etcdtxn: %w", withStderr(err))
	}
	return writesSample("etcdtxn", out)
}

// writesSample reads the {"writes": N, "seconds": S} a write baseline
// prints.
func writesSample(name string, out []byte) (sample, error) {
	var rep struct {
		Writes  int64   `json:"writes"`
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return sample{}, fmt.Errorf("%s: %w", name, err)
	}
	if rep.Writes == 0 || rep.Seconds <= 0 {
		return sample{}, fmt.Errorf("%s: no writes (%s)", name, out)
	}
	return sample{ok: rep.Writes, seconds: rep.Seconds}, nil
}
