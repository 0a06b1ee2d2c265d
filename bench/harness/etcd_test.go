package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

func TestEtcdTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		asked, main, want int
	}{
		{name: "asked wins", asked: 20_000, main: 1_000_000, want: 20_000},
		{name: "asked may exceed the cap", asked: 200_000, main: 1_000, want: 200_000},
		{name: "the main count when small (smoke)", main: 1_000, want: 1_000},
		{name: "the cap when the main count is larger (full)", main: 1_000_000, want: defaultEtcdTokens},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := etcdTokens(tc.asked, tc.main); got != tc.want {
				t.Errorf("etcdTokens(%d, %d) = %d, want %d", tc.asked, tc.main, got, tc.want)
			}
		})
	}
}

func TestStoreShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tokens, wantSpread, wantSmall int
	}{
		{tokens: 100, wantSpread: 0, wantSmall: 100},
		{tokens: 1000, wantSpread: 0, wantSmall: 100},
		{tokens: 5000, wantSpread: 400, wantSmall: 500},
		{tokens: 50_000, wantSpread: 4900, wantSmall: 5000},
		{tokens: 1_000_000, wantSpread: 99_900, wantSmall: 100_000},
	} {
		t.Run(fmt.Sprint(tc.tokens), func(t *testing.T) {
			t.Parallel()
			if got := spreadOver(tc.tokens); got != tc.wantSpread {
				t.Errorf("spreadOver(%d) = %d, want %d", tc.tokens, got, tc.wantSpread)
			}
			if got := smallTokens(tc.tokens); got != tc.wantSmall {
				t.Errorf("smallTokens(%d) = %d, want %d", tc.tokens, got, tc.wantSmall)
			}
		})
	}
}

func TestFootprint(t *testing.T) {
	t.Parallel()
	kv := func(key string, value int, rev int64) *mvccpb.KeyValue {
		return &mvccpb.KeyValue{Key: []byte(key), Value: make([]byte, value), ModRevision: rev}
	}
	for _, tc := range []struct {
		name                string
		kvs                 []*mvccpb.KeyValue
		wantKeys, wantBytes int
		wantErr             bool
	}{
		{name: "one commit", kvs: []*mvccpb.KeyValue{kv("/p/t/1", 200, 7), kv("/p/h/1", 26, 7)}, wantKeys: 2, wantBytes: 6 + 200 + 6 + 26},
		{
			name:     "a later commit's keys are left out",
			kvs:      []*mvccpb.KeyValue{kv("/p/u/1", 30, 9), kv("/p/t/1", 200, 7), kv("/p/a/1", 100, 7)},
			wantKeys: 2, wantBytes: 6 + 200 + 6 + 100,
		},
		{name: "nothing written is an error", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys, bytes, err := footprint(tc.kvs)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("footprint = %d keys, %d B, want an error", keys, bytes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if keys != tc.wantKeys || bytes != tc.wantBytes {
				t.Errorf("footprint = %d keys, %d B, want %d, %d", keys, bytes, tc.wantKeys, tc.wantBytes)
			}
		})
	}
}

func TestMetricOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		m         metric
		s         sample
		want      float64
		wantUnit  string
		wantLower bool
	}{
		{name: "CPU per OK request, in µs", m: cpuPerOK, s: sample{ok: 1000, cpu: 0.02}, want: 20, wantUnit: " µs CPU/req", wantLower: true},
		{name: "OK per second", m: okPerSecond, s: sample{ok: 1500, seconds: 3}, want: 500, wantUnit: "/s"},
		{name: "bytes per token", m: bytesPerToken, s: sample{ok: 50_000, bytes: 42_500_000, seconds: 12}, want: 850, wantUnit: " B/token", wantLower: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.m.of(tc.s); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("of = %v, want %v", got, tc.want)
			}
			unit, lower := tc.m.unit()
			if unit != tc.wantUnit || lower != tc.wantLower {
				t.Errorf("unit = %q, %v, want %q, %v", unit, lower, tc.wantUnit, tc.wantLower)
			}
		})
	}
}

// TestEtcdRowsSelected checks that --rows etcd selects the three etcd rows
// and nothing else, and that the harness tells them from the main rows.
func TestEtcdRowsSelected(t *testing.T) {
	t.Parallel()
	all := (&bench{}).rows()
	for _, tc := range []struct {
		name  string
		terms []string
		want  []string
	}{
		{name: "etcd", terms: []string{"etcd"}, want: etcdRowNames},
		{name: "one etcd row", terms: []string{"raw etcd"}, want: []string{etcdCreateRow}},
		{name: "an etcd row beside a main row", terms: []string{"ext_authz", "resident anonymous"}, want: []string{"gateway ext_authz Check, c=50", etcdMemRow}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := selectRows(all, tc.terms)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range got {
				names = append(names, r.name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("selectRows(%q) = %q, want %q", tc.terms, names, tc.want)
			}
		})
	}
	for _, r := range all {
		if got, want := isEtcdRow(r.name), strings.Contains(strings.ToLower(r.name), "etcd"); got != want {
			t.Errorf("isEtcdRow(%q) = %v, want %v", r.name, got, want)
		}
	}
}

func TestRowVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a, b float64
		ok   bool
		want string
	}{
		{name: "met", a: 30, b: 25, ok: true, want: "met"},
		{name: "not met", a: 40, b: 25, want: "**not met**"},
		{name: "a negative baseline is no measure, whatever the ratio", a: 3181, b: -632.6, ok: true, want: "no measure (a side is not above zero)"},
		{name: "a zero side is no measure", a: 0, b: 300, ok: true, want: "no measure (a side is not above zero)"},
		{name: "NaN is no measure", a: math.NaN(), b: 300, want: "no measure (a side is not above zero)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := rowVerdict(tc.a, tc.b, tc.ok); got != tc.want {
				t.Errorf("rowVerdict(%v, %v, %v) = %q, want %q", tc.a, tc.b, tc.ok, got, tc.want)
			}
		})
	}
}
