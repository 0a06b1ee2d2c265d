package cli

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// table collects rows for people: a header and aligned columns, or, for one
// record, "Key:  value" lines.
type table struct {
	now  time.Time
	rows [][]string
}

func newTable(now time.Time) *table { return &table{now: now} }

// row adds a row; the first row of a list is its header.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = printable(c)
	}
	t.rows = append(t.rows, cells)
}

// field adds a "Key:" line of a single-record view.
func (t *table) field(key, value string) { t.row(key+":", value) }

func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range t.rows {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// date shows a time in a list as a date and a relative time: "2027-12-31
// (in 29 days)". An absent time shows as absent.
func (t *table) date(ts *timestamppb.Timestamp, absent string) string {
	return t.format(ts, "2006-01-02", absent)
}

// time shows a time of a single record to the second, in UTC.
func (t *table) time(ts *timestamppb.Timestamp, absent string) string {
	return t.format(ts, time.RFC3339, absent)
}

func (t *table) format(ts *timestamppb.Timestamp, layout, absent string) string {
	if ts == nil {
		return absent
	}
	at := ts.AsTime()
	return at.Format(layout) + " (" + relative(t.now, at) + ")"
}

// relative says how far at is from now in the largest whole unit, as "in 29
// days" or "3 hours ago".
func relative(now, at time.Time) string {
	d := at.Sub(now)
	future := d >= 0
	if !future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 60*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "day"
	case d < 2*365*24*time.Hour:
		n, unit = int(math.Round(float64(d)/float64(30*24*time.Hour))), "month"
	default:
		n, unit = int(d/(365*24*time.Hour)), "year"
	}
	if n != 1 {
		unit += "s"
	}
	if future {
		return fmt.Sprintf("in %d %s", n, unit)
	}
	return fmt.Sprintf("%d %s ago", n, unit)
}

// printable replaces control characters (a description may hold tabs,
// newlines or terminal escapes) so that a cell cannot break the table or the
// terminal, and shows an empty cell as "-".
func printable(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
