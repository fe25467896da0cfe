package report

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestLinearTicks(t *testing.T) {
	tests := []struct {
		max  float64
		want []float64
		top  float64
	}{
		{0, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 1},
		{math.NaN(), []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 1},
		{math.Inf(1), []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 1},
		{7, []float64{0, 2, 4, 6, 8}, 8},
		{100, []float64{0, 20, 40, 60, 80, 100}, 100},
		{23000, []float64{0, 5000, 10000, 15000, 20000, 25000}, 25000},
	}
	for _, tt := range tests {
		got, top := linearTicks(tt.max, 5)
		if !slices.EqualFunc(got, tt.want, near) || !near(top, tt.top) {
			t.Errorf("linearTicks(%v) = %v, %v; want %v, %v", tt.max, got, top, tt.want, tt.top)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestTimeTicks(t *testing.T) {
	tests := []struct {
		max    float64
		step   float64
		labels string
	}{
		{0, 1, "0 1s"},
		{8, 1, "0 1s 2s 3s 4s 5s 6s 7s 8s"},
		{120, 15, "0 15s 30s 45s 1m00s 1m15s 1m30s 1m45s 2m00s"},
		{600, 60, "0 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m"},
		{5000, 600, "0 10m 20m 30m 40m 50m 1h 1h10m 1h20m"},
	}
	for _, tt := range tests {
		ticks, step := timeTicks(tt.max, 10)
		var labels []string
		for _, v := range ticks {
			labels = append(labels, formatClock(v, step))
		}
		if step != tt.step || strings.Join(labels, " ") != tt.labels {
			t.Errorf("timeTicks(%v) = step %v, %q; want step %v, %q", tt.max, step, labels, tt.step, tt.labels)
		}
	}
}

func TestLogTicks(t *testing.T) {
	ticks, lo, hi := logTicks(0.8, 1900)
	if lo != 0.1 || hi != 10000 || !slices.Equal(tickLabels(ticks, true), []string{"0.1", "1", "10", "100", "1k", "10k"}) {
		t.Errorf("logTicks(0.8, 1900) = %v, %v, %v", tickLabels(ticks, true), lo, hi)
	}
	ticks, lo, hi = logTicks(3, 90)
	if lo != 2 || hi != 100 || len(ticks) != 6 {
		t.Errorf("logTicks(3, 90) = %v, %v, %v; want 2 5 10 20 50 100", ticks, lo, hi)
	}
	ticks, lo, hi = logTicks(186, 23000)
	if lo != 100 || hi != 50000 || !slices.Equal(tickLabels(ticks, true), []string{"100", "200", "500", "1k", "2k", "5k", "10k", "20k", "50k"}) {
		t.Errorf("logTicks(186, 23000) = %v, %v, %v", tickLabels(ticks, true), lo, hi)
	}
	ticks, lo, hi = logTicks(5, 5)
	if lo != 5 || hi != 10 || len(ticks) != 2 {
		t.Errorf("logTicks(5, 5) = %v, %v, %v; want 5 10", ticks, lo, hi)
	}
}

func TestTickLabels(t *testing.T) {
	if got := tickLabels([]float64{0, 5000, 10000, 25000}, false); !slices.Equal(got, []string{"0", "5k", "10k", "25k"}) {
		t.Errorf("tickLabels = %q: want one prefix for the whole axis", got)
	}
	if got := tickLabels([]float64{0, 0.25, 0.5}, false); !slices.Equal(got, []string{"0", "0.25", "0.5"}) {
		t.Errorf("tickLabels = %q", got)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatInt(0), "0"},
		{formatInt(-1234567), "-1,234,567"},
		{formatNum(0.97312), "0.9731"},
		{formatNum(12.3456), "12.35"},
		{formatNum(2140), "2,140"},
		{formatNum(math.NaN()), none},
		{formatNum(math.Inf(-1)), none},
		{formatMs(0.42), "0.42 ms"},
		{formatMs(640.4), "640 ms"},
		{formatMs(2950), "2.95 s"},
		{formatSeconds(0), "0s"},
		{formatSeconds(12.5), "12.5s"},
		{formatSeconds(120), "2m00s"},
		{formatSeconds(3723), "1h02m03s"},
		{formatSeconds(math.NaN()), none},
		{formatRatio(0.973), "97.30%"},
		{formatShare(1, 0), none},
		{formatSI(2.35e6, "b/s"), "2.35 Mb/s"},
		{formatSI(116.97e9, "B"), "117 GB"},
		{formatSI(512, "B"), "512 B"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestEnvelopeKeepsSpikes(t *testing.T) {
	n := 5000
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range n {
		xs[i], ys[i] = float64(i), 1
	}
	ys[1234] = 99                  // a one-second spike
	ys[3000] = math.NaN()          // a gap inside a bucket is ignored
	for i := 4000; i < 4100; i++ { // a long gap stays a gap
		ys[i] = math.NaN()
	}
	ox, oy := envelope(xs, ys, 600)
	if len(ox) > 600 || len(ox) != len(oy) {
		t.Fatalf("envelope kept %d×%d points, want at most 600", len(ox), len(oy))
	}
	if !slices.Contains(oy, 99) {
		t.Error("envelope lost the spike")
	}
	if !slices.ContainsFunc(oy, math.IsNaN) {
		t.Error("envelope filled the gap")
	}
	if !slices.IsSorted(ox) {
		t.Error("envelope's points are out of time order")
	}
	if sx, sy := envelope(xs[:600], ys[:600], 600); len(sx) != 600 || len(sy) != 600 {
		t.Error("envelope changed a short series")
	}
}

func TestBucketMeans(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4, 5}
	ys := []float64{1, 3, math.NaN(), 4, 10, 20}
	ox, oy := bucketMeans(xs, ys, 3)
	if !slices.Equal(ox, []float64{0.5, 2.5, 4.5}) || !slices.Equal(oy, []float64{2, 2, 15}) {
		t.Errorf("bucketMeans = %v, %v", ox, oy)
	}
}

func TestChartSVG(t *testing.T) {
	xs := []float64{0.5, 1.5, 2.5, 3.5}
	c := &chart{
		ID: "c", Title: "T<1>", Unit: "ms", XMax: 4, AutoLog: true,
		Phases: []Phase{{Name: "a&b", Start: 0, End: 2}, {Name: "second", Start: 2, End: 4}},
		Series: []series{
			{Name: "wide", Color: "#000", X: xs, Y: []float64{0.5, 2000, math.NaN(), 3}},
			{Name: "<lone>", Color: "#111", Dash: "4 2", X: xs, Y: []float64{math.NaN(), 7, math.Inf(1), math.NaN()}},
		},
	}
	svg := string(c.SVG())
	for _, w := range []string{
		`<title id="c-t">T&lt;1&gt;</title>`, "ms, log scale", ">a&amp;b</text>", ">&lt;lone&gt;</text>",
		"h0.1", `stroke-dasharray="4 2"`, `clip-path="url(#c-clip)"`,
	} {
		if !strings.Contains(svg, w) {
			t.Errorf("svg lacks %q:\n%s", w, svg)
		}
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("svg has a non-number:\n%s", svg)
	}
	// The gap at 2.5 splits the first line in two.
	if d := svg[strings.Index(svg, `<path d="`):]; strings.Count(d[:strings.Index(d, `" `)], "M") != 2 {
		t.Errorf("first line not split at its gap: %s", d[:strings.Index(d, `" `)])
	}
}

func TestChartSVGEmpty(t *testing.T) {
	svg := string((&chart{ID: "e", Title: "empty"}).SVG())
	if !strings.Contains(svg, "no data") || strings.Contains(svg, "NaN") || !strings.Contains(svg, `viewBox="0 0 800`) {
		t.Errorf("empty chart:\n%s", svg)
	}
}

func TestStack(t *testing.T) {
	ss := []series{{Y: []float64{1, 2}}, {Y: []float64{math.NaN(), 3}}, {Y: []float64{1, 1}}}
	stack(ss)
	if !slices.Equal(ss[2].Y, []float64{2, 6}) {
		t.Errorf("stacked top = %v, want [2 6]", ss[2].Y)
	}
}

func TestFit(t *testing.T) {
	if got := fit("kickoff", 200); got != "kickoff" {
		t.Errorf("fit = %q", got)
	}
	if got := fit("a very long phase name indeed", 60); got == "" || len([]rune(got)) >= 20 || !strings.HasSuffix(got, "…") {
		t.Errorf("fit = %q, want it shortened with an ellipsis", got)
	}
	if got := fit("kickoff", 10); got != "" {
		t.Errorf("fit in 10 units = %q, want nothing", got)
	}
}
