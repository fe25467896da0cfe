package report_test

import (
	"errors"
	"html"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/siege/report"
)

func render(t *testing.T, r *report.Report) string {
	t.Helper()
	var b strings.Builder
	if err := report.WriteHTML(&b, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return b.String()
}

// selfContained fails t if page could load or run anything, or shows a
// value that was not a number.
func selfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "@import", "ZgotmplZ"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if m := regexp.MustCompile(`<[^>]+\s(src|href|on[a-z]+)=|url\([^#]`).FindString(page); m != "" {
		t.Errorf("page has a link or a handler: %q", m)
	}
	if m := regexp.MustCompile(`\bNaN\b|[+-]?\bInf\b`).FindString(page); m != "" {
		t.Errorf("page shows %q", m)
	}
}

func TestWriteHTMLShowsTheRun(t *testing.T) {
	r := Synthetic(120)
	page := render(t, r)
	selfContained(t, page)
	want := []string{
		"<h1>match-night</h1>", "http://127.0.0.1:8080", "2m00s", "completed", "8 CPUs · linux/amd64 · go1.26.8",
		"✗ FAIL", "3 of 4 thresholds held", `<span class="result fail">✗ FAIL</span>`, `<span class="result pass">✓ pass</span>`,
		"0.973", "2,140", "97.30%", "740 ms / 2.14 s", "2.35 Mb/s", "1.08",
		">warmup</text>", ">kickoff</text>", // phase labels on the plots
		"latency by kind", "media_playlist",
	}
	for _, c := range r.Checks {
		want = append(want, "<code>"+html.EscapeString(c.Expr)+"</code>")
	}
	for _, p := range r.Pops {
		want = append(want, p.Name+"</td>", ">"+p.Name+" p99</text>")
	}
	for _, id := range []string{"states", "stalled", "throughput", "errors", "latency", "origin", "conns"} {
		want = append(want, `<figure id="plot-`+id+`">`)
	}
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	figs, svgs := strings.Count(page, "<figure"), strings.Count(page, `<svg class="chart"`)
	if figs != 7 || svgs != figs {
		t.Errorf("%d figures with %d plots, want 7 each with its svg", figs, svgs)
	}
	if n := strings.Count(page, ">warmup</text>"); n != svgs {
		t.Errorf("phase label on %d of %d plots", n, svgs)
	}
}

func TestWriteHTMLPass(t *testing.T) {
	r := Synthetic(30)
	r.Pass = true
	r.Checks = nil
	page := render(t, r)
	for _, w := range []string{"✓ PASS", "0 of 0 thresholds held", "No thresholds were set"} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

// TestWriteHTMLEscapes: names come from user files; none may become markup.
func TestWriteHTMLEscapes(t *testing.T) {
	const evil = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`
	r := Synthetic(60)
	r.Scenario = evil
	r.Target = evil
	r.Stopped = evil
	r.Machine.OS = evil
	r.Phases[1].Name = evil
	r.Series[59].Phase = evil
	r.Pops[0].Name = evil
	r.Pops[0].Model = evil
	r.Pops[1].Role = evil
	r.Pops[0].Status[evil] = 3
	r.Pops[0].ByKind[evil] = report.Percentiles{Count: 1}
	r.Origin.MetricsURL = evil
	r.Checks[0].Expr = evil
	page := render(t, r)
	selfContained(t, page)
	if strings.Contains(page, "onerror=") && !strings.Contains(page, "&lt;img src=x onerror=") {
		t.Error("an attribute from a name escaped its text")
	}
	if n := strings.Count(page, "&lt;script&gt;"); n < 10 {
		t.Errorf("%d escaped names, want every one of them", n)
	}
}

func TestWriteHTMLNilReport(t *testing.T) {
	var b strings.Builder
	if err := report.WriteHTML(&b, nil); !errors.Is(err, report.ErrNoReport) {
		t.Errorf("WriteHTML(nil) = %v, want ErrNoReport", err)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %d bytes for no report", b.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteHTMLWriteError(t *testing.T) {
	if err := report.WriteHTML(failWriter{}, Synthetic(10)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteHTML to a failing writer = %v, want its error", err)
	}
}

func TestWriteHTMLEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		r    func() *report.Report
		want []string
	}{
		{"zero-length run", func() *report.Report {
			return &report.Report{Schema: report.Schema, Scenario: "empty", Stopped: "interrupted"}
		}, []string{"The run lasted no time", "Nothing to plot", "No populations", "✗ FAIL", "0s"}},
		{"zero-length run with a population", func() *report.Report {
			return &report.Report{Scenario: "empty", Pops: []report.Pop{{Name: "idle", Role: "viewer", Viewers: &report.Viewers{}}}}
		}, []string{"idle</td>", "no responses", "Nothing to plot"}},
		{"population without requests", func() *report.Report {
			r := Synthetic(20)
			r.Pops = append(r.Pops, report.Pop{Name: "sleeper", Role: "attacker", Model: "slowloris"})
			return r
		}, []string{"sleeper</td>", "no responses", ">sleeper p50</text>"}},
		{"not a number", notANumber, []string{"—"}},
		{"one second", func() *report.Report {
			r := Synthetic(1)
			r.Seconds = 0.4
			return r
		}, []string{"0.4s", "h0.1"}}, // a lone point is drawn as a dot
		{"quiet seconds", func() *report.Report {
			r := Synthetic(20)
			for i := range r.Series {
				r.Series[i].Pops = nil
			}
			return r
		}, []string{"no data"}},
		{"other schema", func() *report.Report {
			r := Synthetic(20)
			r.Schema = "rempart-siege/9"
			return r
		}, []string{`schema is &#34;rempart-siege/9&#34;`}},
		{"no phases listed", func() *report.Report {
			r := Synthetic(20)
			r.Phases = nil
			return r
		}, []string{">warmup</text>", ">kickoff</text>"}},
		{"no origin metrics", func() *report.Report {
			r := Synthetic(20)
			r.Origin = nil
			for i := range r.Series {
				r.Series[i].OriginRequests = nil
			}
			return r
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.r())
			selfContained(t, page)
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
}

// notANumber is a report whose numbers went wrong everywhere they can.
func notANumber() *report.Report {
	nan, inf := math.NaN(), math.Inf(1)
	r := Synthetic(30)
	r.Seconds = nan
	r.Checks[0].Value = nan
	r.Checks[1].Value = inf
	r.Pops[0].Latency.P99 = inf
	r.Pops[0].Viewers.StallFreeRatio = nan
	r.Pops[0].Viewers.MeanBitrate = -inf
	r.Origin.Requests = nan
	r.Phases[1].End = inf
	for i := range r.Series {
		r.Series[i].Pops[0].P50 = nan
		r.Series[i].Pops[1].P99 = inf
		if i%3 == 0 {
			r.Series[i].OriginRequests = &nan
		}
	}
	return r
}

// TestWriteHTMLLongRun: hours of seconds still make a light page, with
// every line thinned to about maxPoints.
func TestWriteHTMLLongRun(t *testing.T) {
	page := render(t, Synthetic(5000))
	selfContained(t, page)
	if len(page) > 1<<20 {
		t.Errorf("page is %d bytes, want under 1 MiB", len(page))
	}
	for _, d := range regexp.MustCompile(` d="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if n := strings.Count(d[1], "L") + strings.Count(d[1], "M"); n > 1300 {
			t.Errorf("a path has %d points, want about 600 (1200 for an area)", n)
		}
	}
	for _, w := range []string{"1h23m20s", ">1h</text>", "time since start"} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}
