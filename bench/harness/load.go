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

// sample is one load run: requests answered OK, how long the run took, and
// the CPU the measured process spent meanwhile (0 when not measured).
type sample struct {
	ok      int64
	seconds float64
	cpu     float64
}

// measured runs load and charges the CPU pid spent during it.
func measured(pid int, load func() (int64, float64, error)) (sample, error) {
	before, err := cpuSeconds(pid)
	if err != nil {
		return sample{}, err
	}
	ok, secs, err := load()
	if err != nil {
		return sample{}, err
	}
	after, err := cpuSeconds(pid)
	if err != nil {
		return sample{}, err
	}
	return sample{ok: ok, seconds: secs, cpu: after - before}, nil
}

// ghzLoad is one ghz run of a unary call.
type ghzLoad struct {
	bin, addr, call, dataFile, metadata string
	concurrency                         int
	duration                            time.Duration
}

func (g ghzLoad) run(ctx context.Context) (int64, float64, error) {
	args := []string{
		"--insecure", "--call", g.call, "--data-file", g.dataFile,
		"-c", strconv.Itoa(g.concurrency), "-z", g.duration.String(),
		"--format", "json", "--connections", "1",
	}
	if g.metadata != "" {
		args = append(args, "--metadata", g.metadata)
	}
	args = append(args, g.addr)
	out, err := exec.CommandContext(ctx, g.bin, args...).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("ghz %s: %w", g.call, withStderr(err))
	}
	var rep struct {
		Count        int64            `json:"count"`
		Total        int64            `json:"total"` // nanoseconds
		StatusCodes  map[string]int64 `json:"statusCodeDistribution"`
		ErrorsByText map[string]int64 `json:"errorDistribution"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return 0, 0, fmt.Errorf("ghz %s: read report: %w", g.call, err)
	}
	ok := rep.StatusCodes["OK"]
	if ok == 0 {
		return 0, 0, fmt.Errorf("ghz %s: no OK responses (%v, %v)", g.call, rep.StatusCodes, rep.ErrorsByText)
	}
	return ok, float64(rep.Total) / 1e9, nil
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

func (w wrkLoad) run(ctx context.Context) (int64, float64, error) {
	out, err := exec.CommandContext(ctx, w.bin, "-t", "2", "-c", strconv.Itoa(w.concurrency),
		"-d", fmt.Sprintf("%ds", int(w.duration.Seconds())), "-s", w.script, w.url).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk %s: %w", w.url, withStderr(err))
	}
	m := wrkTotal.FindSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("wrk %s: no request count in %q", w.url, out)
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
		return 0, 0, fmt.Errorf("wrk %s: no 2xx responses:\n%s", w.url, out)
	}
	return total - bad, secs, nil
}

// boltLoad is one run of the bbolt write baseline.
type boltLoad struct {
	bin, dir, mode   string
	writers, prefill int
	duration         time.Duration
}

func (b boltLoad) run(ctx context.Context) (int64, float64, error) {
	out, err := exec.CommandContext(ctx, b.bin, "-mode", b.mode, "-writers", strconv.Itoa(b.writers),
		"-dir", b.dir, "-duration", b.duration.String(), "-prefill", strconv.Itoa(b.prefill)).Output()
	if err != nil {
		return 0, 0, fmt.Errorf("boltwrite: %w", withStderr(err))
	}
	var rep struct {
		Writes  int64   `json:"writes"`
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return 0, 0, fmt.Errorf("boltwrite: %w", err)
	}
	return rep.Writes, rep.Seconds, nil
}

func withStderr(err error) error {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, ee.Stderr)
	}
	return err
}
