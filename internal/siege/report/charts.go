package report

import (
	"html/template"
	"math"
)

// popColors tell populations apart on every chart (Okabe–Ito, readable by
// people with the common color vision deficiencies); population i is
// always popColors[i%len].
var popColors = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#4d4d4d", "#882255"}

// Viewer states, bottom to top of the stacked chart, and their colors.
var viewerStates = []struct {
	name, color string
	get         func(PopSecond) int64
}{
	{"playing", "#009E73", func(p PopSecond) int64 { return p.Playing }},
	{"stalled", "#D55E00", func(p PopSecond) int64 { return p.Stalled }},
	{"starting", "#56B4E9", func(p PopSecond) int64 { return p.Starting }},
	{"queued", "#E69F00", func(p PopSecond) int64 { return p.Queued }},
}

// p99Dash tells a population's p99 line from its p50 line without color.
const p99Dash = "6 4"

// A plot is one figure of the page.
type plot struct {
	ID    string
	Title string
	About string // one sentence on what is drawn
	SVG   template.HTML
}

// timeline is the report's per-second series in plotting form.
type timeline struct {
	r    *Report
	xs   []float64 // the middle of each second
	xMax float64
}

func newTimeline(r *Report) timeline {
	tl := timeline{r: r}
	if finite(r.Seconds) && r.Seconds > 0 {
		tl.xMax = r.Seconds
	}
	for _, s := range r.Series {
		tl.xs = append(tl.xs, float64(s.T)+0.5)
		tl.xMax = math.Max(tl.xMax, float64(s.T+1))
	}
	return tl
}

// pop returns f of population i at each second; NaN where a second lacks it.
func (tl timeline) pop(i int, f func(PopSecond) float64) []float64 {
	ys := make([]float64, len(tl.r.Series))
	for j, s := range tl.r.Series {
		ys[j] = math.NaN()
		if i < len(s.Pops) {
			ys[j] = f(s.Pops[i])
		}
	}
	return ys
}

// popSeries is one series per population that keep selects.
func (tl timeline) popSeries(keep func(i int, p Pop) bool, f func(PopSecond) float64) []series {
	var ss []series
	for i, p := range tl.r.Pops {
		if keep(i, p) {
			ss = append(ss, series{Name: p.Name, Color: popColors[i%len(popColors)], X: tl.xs, Y: tl.pop(i, f)})
		}
	}
	return ss
}

// plots returns the figures the report has data for, in page order: none
// without a series.
func plots(r *Report) []plot {
	if len(r.Series) == 0 {
		return nil
	}
	tl := newTimeline(r)
	var out []plot
	for _, build := range []func(timeline) (plot, *chart){
		viewerStatePlot, stalledPlot, waitingRoomPlot, linkPlot, throughputPlot, errorRatePlot,
		latencyPlot, originPlot, connectionsPlot,
	} {
		p, c := build(tl)
		if c == nil {
			continue
		}
		c.ID, c.Title, c.XMax, c.Phases = p.ID, p.Title, tl.xMax, phasesOf(r)
		p.SVG = c.SVG()
		out = append(out, p)
	}
	return out
}

func isViewer(p Pop) bool         { return p.Role == "viewer" || p.Viewers != nil }
func viewerPop(_ int, p Pop) bool { return isViewer(p) }
func anyPop(int, Pop) bool        { return true }
func count(n int64) float64       { return float64(n) }

func viewerStatePlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-states", Title: "Viewers by state",
		About: "Viewers of every viewer population in each state, stacked: the top edge is all viewers present."}
	if !anyOf(tl.r.Pops, isViewer) {
		return p, nil
	}
	c := &chart{Unit: "viewers", Stacked: true}
	for _, st := range viewerStates {
		ys := make([]float64, len(tl.xs))
		for i, p := range tl.r.Pops {
			if isViewer(p) {
				addTo(ys, tl.pop(i, func(s PopSecond) float64 { return count(st.get(s)) }))
			}
		}
		c.Series = append(c.Series, series{Name: st.name, Color: st.color, X: tl.xs, Y: ys})
	}
	return p, c
}

func stalledPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-stalled", Title: "Stalled viewers",
		About: "Viewers whose buffer ran dry, per viewer population."}
	if !anyOf(tl.r.Pops, isViewer) {
		return p, nil
	}
	return p, &chart{Unit: "viewers stalled", Series: tl.popSeries(viewerPop, func(s PopSecond) float64 { return count(s.Stalled) })}
}

func waitingRoomPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-admission", Title: "Waiting room",
		About: "Viewers held in the waiting room (every viewer population), and viewers admitted during each second."}
	if tl.r.Admission == nil {
		return p, nil
	}
	waiting := make([]float64, len(tl.xs))
	for i, pop := range tl.r.Pops {
		if isViewer(pop) {
			addTo(waiting, tl.pop(i, func(s PopSecond) float64 { return count(s.Queued) }))
		}
	}
	admitted := make([]float64, len(tl.r.Series))
	for i, s := range tl.r.Series {
		admitted[i] = count(s.Admitted)
	}
	return p, &chart{Unit: "viewers", Series: []series{
		{Name: "waiting", Color: "#E69F00", X: tl.xs, Y: waiting},
		{Name: "admitted that second", Color: "#009E73", X: tl.xs, Y: admitted},
	}}
}

func linkPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-link", Title: "Shared link",
		About: "What the link every viewer downloads through carried each second, against its capacity: where the line meets the capacity, the link is full and every download slows."}
	l := tl.r.Link
	if l == nil {
		return p, nil
	}
	carried := make([]float64, len(tl.r.Series))
	capacity := make([]float64, len(tl.r.Series))
	for i, s := range tl.r.Series {
		carried[i], capacity[i] = math.NaN(), l.Mbps
		if s.LinkMbps != nil {
			carried[i] = *s.LinkMbps
		}
	}
	return p, &chart{Unit: "Mbit/s", Series: []series{
		{Name: "carried", Color: "#0072B2", X: tl.xs, Y: carried},
		{Name: "capacity", Color: "#4d4d4d", Dash: p99Dash, X: tl.xs, Y: capacity},
	}}
}

func throughputPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-throughput", Title: "Throughput",
		About: "Requests sent per second, per population (on a log scale when populations differ by more than 100×)."}
	return p, &chart{Unit: "requests/s", AutoLog: true, Series: tl.popSeries(anyPop, func(s PopSecond) float64 { return count(s.Requests) })}
}

func errorRatePlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-errors", Title: "Error rate",
		About: "Share of each second's requests that failed (transport errors and 5xx), per population; waiting-room holds are not failures and are left out; gaps are seconds without other requests."}
	return p, &chart{Unit: "errors, % of requests", Percent: true,
		Series: tl.popSeries(anyPop, func(s PopSecond) float64 {
			if s.Requests <= s.Held {
				return math.NaN()
			}
			return 100 * ErrorRatio(s.Errors, s.Requests, s.Held)
		})}
}

func latencyPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-latency", Title: "Latency",
		About: "Median (solid) and 99th percentile (dashed) response time per population, each second."}
	c := &chart{Unit: "latency (ms)", AutoLog: true}
	for i, pop := range tl.r.Pops {
		color := popColors[i%len(popColors)]
		c.Series = append(c.Series,
			series{Name: pop.Name + " p50", Color: color, X: tl.xs, Y: tl.pop(i, latency(PopSecond.p50))},
			series{Name: pop.Name + " p99", Color: color, Dash: p99Dash, X: tl.xs, Y: tl.pop(i, latency(PopSecond.p99))})
	}
	return p, c
}

// latency is get, or a gap in seconds without requests.
func latency(get func(PopSecond) float64) func(PopSecond) float64 {
	return func(s PopSecond) float64 {
		if s.Requests == 0 {
			return math.NaN()
		}
		return get(s)
	}
}

func (s PopSecond) p50() float64 { return s.P50 }
func (s PopSecond) p99() float64 { return s.P99 }

func originPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-origin", Title: "Origin load",
		About: "Requests the origin received per second, read from its metrics: what the edge let through."}
	ys := make([]float64, len(tl.r.Series))
	seen := false
	for i, s := range tl.r.Series {
		ys[i] = math.NaN()
		if s.OriginRequests != nil {
			ys[i], seen = *s.OriginRequests, true
		}
	}
	if !seen {
		return p, nil
	}
	return p, &chart{Unit: "origin requests/s", Series: []series{{Name: "origin", Color: "#332288", X: tl.xs, Y: ys}}}
}

func connectionsPlot(tl timeline) (plot, *chart) {
	p := plot{ID: "plot-conns", Title: "Attacker connections held",
		About: "Connections each attacking population held open, each second."}
	keep := func(i int, pp Pop) bool { return pp.MaxConn > 0 || anyConns(tl, i) }
	ss := tl.popSeries(keep, func(s PopSecond) float64 { return count(s.Conns) })
	if len(ss) == 0 {
		return p, nil
	}
	return p, &chart{Unit: "open connections", Series: ss}
}

func anyConns(tl timeline, i int) bool {
	for _, s := range tl.r.Series {
		if i < len(s.Pops) && s.Pops[i].Conns > 0 {
			return true
		}
	}
	return false
}

func anyOf(pops []Pop, f func(Pop) bool) bool {
	for _, p := range pops {
		if f(p) {
			return true
		}
	}
	return false
}

// addTo adds ys to sum, counting non-finite values as zero.
func addTo(sum, ys []float64) {
	for i, v := range ys {
		if finite(v) {
			sum[i] += v
		}
	}
}

// phasesOf returns the report's phases or, if it lists none, the runs of
// equal Phase names in its series.
func phasesOf(r *Report) []Phase {
	if len(r.Phases) > 0 {
		return r.Phases
	}
	var ps []Phase
	for _, s := range r.Series {
		t := float64(s.T)
		if n := len(ps); n > 0 && ps[n-1].Name == s.Phase {
			ps[n-1].End = t + 1
			continue
		}
		if s.Phase != "" {
			ps = append(ps, Phase{Name: s.Phase, Start: t, End: t + 1})
		}
	}
	return ps
}
