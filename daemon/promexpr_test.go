package daemon_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// promKeywords are the words of PromQL that are not metric names:
// aggregations, functions are told apart by the "(" after them.
var promKeywords = []string{"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan"}

var (
	promStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promGroupings = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promWords     = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promNumbers   = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?[smhdwy]?\b`)
)

// metricNames returns the metric names a PromQL expression selects, in
// order of first use: every identifier that is not a keyword, a function
// or aggregation (followed by "("), a label of a matcher, grouping or
// on/ignoring clause, a string, a duration or a Grafana variable.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, " ")
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGroupings.ReplaceAllString(s, " ")
	s = strings.ReplaceAll(s, "$", " $")
	s = promNumbers.ReplaceAllString(s, " ")
	var out []string
	for _, m := range promWords.FindAllStringSubmatchIndex(s, -1) {
		word := s[m[0]:m[1]]
		if m[2] >= 0 || (m[0] > 0 && s[m[0]-1] == '$') {
			continue // a function, or a Grafana variable
		}
		word = strings.TrimSpace(word)
		if slices.Contains(promKeywords, strings.ToLower(word)) || slices.Contains(out, word) {
			continue
		}
		out = append(out, word)
	}
	return out
}

// TestMetricNames holds the extractor the deploy check relies on to
// PromQL that names metrics in every position the rules and the dashboard
// use, and to what is not a metric name.
func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job=~".*tokenauthority.*"} == 0`, []string{"up"}},
		{`tokenauthority_index_staleness_seconds > tokenauthority_index_max_staleness_seconds`, []string{"tokenauthority_index_staleness_seconds", "tokenauthority_index_max_staleness_seconds"}},
		{`increase(tokenauthority_store_errors_total[10m]) > 0`, []string{"tokenauthority_store_errors_total"}},
		{`sum by (instance) (rate(a_total{transport="grpc",code="Internal"}[5m])) / sum without(code) (rate(b_total[5m])) > 0.01`, []string{"a_total", "b_total"}},
		{`histogram_quantile(0.99, sum by (le, method) (rate(x_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`, []string{"x_seconds_bucket"}},
		{`time() - c_timestamp_seconds > 3 * 3600`, []string{"c_timestamp_seconds"}},
		{`d - time() < 14 * 86400`, []string{"d"}},
		{`a + on(instance) group_left(version) b offset 5m`, []string{"a", "b"}},
		{`count(x) or vector(0)`, []string{"x"}},
		{`1e3 * x unless y`, []string{"x", "y"}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
				t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}
