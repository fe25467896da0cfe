package runner

import (
	"fmt"
	"io"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Selector picks the series of one metric whose labels include Labels, as
// written in PromQL: `name` or `name{label="value",...}`.
type Selector struct {
	Name   string
	Labels map[string]string
}

// String writes the selector back in its PromQL form.
func (s Selector) String() string {
	if len(s.Labels) == 0 {
		return s.Name
	}
	parts := make([]string, 0, len(s.Labels))
	for k, v := range s.Labels {
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	return s.Name + "{" + strings.Join(parts, ",") + "}"
}

// ParseSelector parses `name` or `name{a="x",b="y"}` (equality matchers
// only; values in double quotes with \" and \\ escapes).
func ParseSelector(s string) (Selector, error) {
	name, rest, hasLabels := strings.Cut(strings.TrimSpace(s), "{")
	sel := Selector{Name: strings.TrimSpace(name)}
	if !model.UTF8Validation.IsValidMetricName(sel.Name) || sel.Name == "" {
		return Selector{}, fmt.Errorf("metric selector %q: want a metric name, optionally with {label=\"value\",...}", s)
	}
	if !hasLabels {
		return sel, nil
	}
	body, ok := strings.CutSuffix(strings.TrimSpace(rest), "}")
	if !ok {
		return Selector{}, fmt.Errorf("metric selector %q: missing closing }", s)
	}
	labels, err := parseMatchers(body)
	if err != nil {
		return Selector{}, fmt.Errorf("metric selector %q: %w", s, err)
	}
	sel.Labels = labels
	return sel, nil
}

// parseMatchers parses `a="x", b="y"`.
func parseMatchers(body string) (map[string]string, error) {
	out := map[string]string{}
	for body = strings.TrimSpace(body); body != ""; body = strings.TrimSpace(body) {
		name, rest, ok := strings.Cut(body, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, `"{},`) {
			return nil, fmt.Errorf("want label=\"value\" at %q", body)
		}
		val, tail, err := quoted(strings.TrimSpace(rest))
		if err != nil {
			return nil, err
		}
		out[name] = val
		body = strings.TrimPrefix(strings.TrimSpace(tail), ",")
	}
	return out, nil
}

// quoted reads a double-quoted string at the start of s.
func quoted(s string) (val, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", fmt.Errorf("label value must be in double quotes at %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated label value in %q", s)
}

// ParseCounter sums the series sel picks in a Prometheus text exposition
// (parsed by prometheus/common's expfmt); found is false when none matched.
func ParseCounter(r io.Reader, sel Selector) (sum float64, found bool, err error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return 0, false, fmt.Errorf("parse metrics: %w", err)
	}
	fam := fams[sel.Name]
	if fam == nil {
		return 0, false, nil
	}
	for _, m := range fam.GetMetric() {
		if matches(m, sel.Labels) {
			sum += value(m)
			found = true
		}
	}
	return sum, found, nil
}

func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}
