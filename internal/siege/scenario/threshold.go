package scenario

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rempart/rempart/internal/siege/report"
)

// Threshold is one condition on a run's report, such as
// "stall_free_viewers >= 0.99" or "flood.status_429 > 0".
type Threshold struct {
	Expr   string  // as written
	Metric string  // left-hand side as written, e.g. "startup_p95_ms", "viewers.errors" or "admission.queued"
	Pop    string  // population of a "<population>.<field>" metric; empty otherwise
	Field  string  // the field of a population metric, or Metric itself (admission.* included)
	Op     string  // one of >= <= > < ==
	Value  float64 // right-hand side
}

// runMetrics are the metrics about the whole run.
var runMetrics = []string{
	"stall_free_viewers", "startup_p50_ms", "startup_p95_ms", "startup_p99_ms",
	"stall_count", "stall_seconds", "segment_p99_ms", "viewer_errors", "error_ratio", "viewer_held", "refused_viewers",
	"attack_requests", "origin_requests", "origin_requests_per_segment",
}

// AdmissionPrefix starts the metrics of the report's admission section
// ("admission.fifo_violations"); no population may be called "admission".
const AdmissionPrefix = "admission."

// admissionMetrics are the fields of "admission.<field>" metrics.
var admissionMetrics = []string{
	"viewers", "admitted", "admitted_directly", "queued", "admitted_from_queue", "still_waiting",
	"gave_up", "not_admitted", "refused", "limited", "requeued",
	"queue_time_p50_s", "queue_time_p95_s", "queue_time_max_s",
	"fifo_violations", "fifo_viewers",
	"wait_within_30pct", "wait_error_p50", "wait_error_p95",
	"admitted_stall_free", "mean_bitrate",
}

// popFields are the fields of "<population>.<field>" metrics, besides
// status_<code>.
var popFields = []string{"requests", "errors", "error_ratio", "held", "challenged", "p99_ms", "stall_free_ratio", "refused_viewers", "clients", "refused_after_s"}

var ops = []string{">=", "<=", "==", ">", "<"} // two-character operators first

// ParseThreshold parses "metric op number". Errors name the bad token and
// list what would be valid.
func ParseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: expr}
	s := strings.TrimSpace(expr)
	end := strings.IndexFunc(s, func(r rune) bool { return strings.ContainsRune("<>=! \t", r) })
	if end < 0 {
		return t, fmt.Errorf("%q: want \"metric op number\", e.g. \"stall_free_viewers >= 0.99\"", expr)
	}
	t.Metric, s = s[:end], strings.TrimSpace(s[end:])
	if err := t.parseMetric(); err != nil {
		return t, err
	}
	for _, op := range ops {
		if strings.HasPrefix(s, op) {
			t.Op, s = op, strings.TrimSpace(s[len(op):])
			break
		}
	}
	if t.Op == "" {
		tok, _, _ := strings.Cut(s, " ")
		return t, fmt.Errorf("%q: operator %q: want one of >=, <=, >, <, ==", expr, tok)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return t, fmt.Errorf("%q: value %q: want a number", expr, s)
	}
	t.Value = v
	return t, nil
}

func (t *Threshold) parseMetric() error {
	pop, field, dotted := strings.Cut(t.Metric, ".")
	if pop+"." == AdmissionPrefix {
		if !slices.Contains(admissionMetrics, field) {
			return fmt.Errorf("%q: unknown metric %q (valid admission metrics: admission.%s)",
				t.Expr, t.Metric, strings.Join(admissionMetrics, ", admission."))
		}
		t.Field = t.Metric
		return nil
	}
	if !dotted {
		for _, m := range runMetrics {
			if t.Metric == m {
				t.Field = m
				return nil
			}
		}
		return fmt.Errorf("%q: unknown metric %q (valid: %s, admission.<%s>, or <population>.<%s|status_<code>>)",
			t.Expr, t.Metric, strings.Join(runMetrics, ", "), strings.Join(admissionMetrics, "|"), strings.Join(popFields, "|"))
	}
	t.Pop, t.Field = pop, field
	if pop == "" {
		return fmt.Errorf("%q: metric %q: want <population>.<field>", t.Expr, t.Metric)
	}
	for _, f := range popFields {
		if field == f {
			return nil
		}
	}
	if code, ok := strings.CutPrefix(field, "status_"); ok && validStatus(code) {
		return nil
	}
	return fmt.Errorf("%q: unknown field %q of population %q (valid: %s, status_<code> such as status_429 or status_error)",
		t.Expr, field, pop, strings.Join(popFields, ", "))
}

func validStatus(code string) bool {
	if code == "error" || code == "skipped" || code == "canceled" {
		return true
	}
	n, err := strconv.Atoi(code)
	return err == nil && n >= 100 && n <= 599 && len(code) == 3
}

// Eval measures the threshold's metric in r and says whether it holds. A
// metric that was not measured (origin metrics without --origin-metrics)
// fails, with Value 0.
func (t Threshold) Eval(r *report.Report) report.Check {
	v, ok := t.Measure(r)
	c := report.Check{Expr: t.Expr, Value: v}
	if !ok {
		c.Value = 0
		return c
	}
	switch t.Op {
	case ">=":
		c.Pass = v >= t.Value
	case "<=":
		c.Pass = v <= t.Value
	case ">":
		c.Pass = v > t.Value
	case "<":
		c.Pass = v < t.Value
	case "==":
		c.Pass = v == t.Value
	}
	return c
}

// Evaluate checks every threshold against r, filling r.Checks and r.Pass.
func Evaluate(ts []Threshold, r *report.Report) {
	r.Checks = make([]report.Check, 0, len(ts))
	r.Pass = true
	for _, t := range ts {
		c := t.Eval(r)
		r.Checks = append(r.Checks, c)
		r.Pass = r.Pass && c.Pass
	}
}
