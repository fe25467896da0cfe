package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// A chart is one plot over the run's time: series sharing an x axis in
// seconds, shaded phase bands, axes with ticks, and a legend. It renders
// itself as inline SVG, with every text escaped, so it needs no script and
// no asset.
type chart struct {
	ID      string  // unique within the page; prefixes the SVG's ids
	Title   string  // read by screen readers; the page shows its own heading
	Unit    string  // y axis label, e.g. "requests/s"
	XMax    float64 // end of the x axis, in seconds
	Phases  []Phase
	Series  []series
	Stacked bool // series are areas stacked from the first (bottom) up
	// AutoLog draws the y axis on a log scale when the positive values span
	// more than two decades; values <= 0 are then left out.
	AutoLog bool
	// Percent labels y ticks with a % sign.
	Percent bool
}

// A series is one named line (or stacked area) of a chart. X and Y have the
// same length; a NaN or infinite Y is a gap.
type series struct {
	Name  string
	Color string // CSS color, from the palette
	Dash  string // stroke-dasharray; "" draws a solid line
	X, Y  []float64
}

// Geometry of a chart, in SVG user units; the SVG scales to its container.
const (
	chartW      = 800
	plotH       = 220
	marginLeft  = 64
	marginRight = 20
	marginTop   = 26 // phase labels live here
	axisH       = 44 // x tick labels and the axis title
	legendRow   = 20
	fontSize    = 12
	charW       = 6.8 // rough width of one character at fontSize, for layout
	// maxPoints bounds the points drawn per series; longer runs are reduced
	// (see envelope and bucketMeans) so a long run stays a light page.
	maxPoints = 600
)

// frame maps data to SVG coordinates.
type frame struct {
	x0, x1, y0, y1 float64 // plot area, in user units (y0 is the top)
	xMax           float64
	lo, hi         float64 // y domain
	log            bool
}

func (f *frame) X(v float64) float64 { return f.x0 + (f.x1-f.x0)*v/f.xMax }

func (f *frame) Y(v float64) float64 {
	lo, hi := f.lo, f.hi
	if f.log {
		v, lo, hi = math.Log10(v), math.Log10(lo), math.Log10(hi)
	}
	r := (v - lo) / (hi - lo)
	return f.y1 - (f.y1-f.y0)*r
}

// SVG renders the chart. All text is escaped here; the result is safe to
// place in the page as is.
func (c *chart) SVG() template.HTML {
	ss := c.prepared()
	legend := layoutLegend(ss, c.Stacked)
	f := c.frame(ss)
	h := marginTop + plotH + axisH + legendRow*legend.rows + 6
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t" xmlns="http://www.w3.org/2000/svg">`, chartW, h, c.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title>`, c.ID, esc(c.Title))
	fmt.Fprintf(&b, `<clipPath id="%s-clip"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></clipPath>`,
		c.ID, f.x0, f.y0-1, f.x1-f.x0, f.y1-f.y0+2)
	c.writeBands(&b, f)
	c.writeYAxis(&b, f)
	writeXAxis(&b, f)
	c.writeSeries(&b, f, ss)
	legend.write(&b, f.y1+axisH)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // escaped piecewise above
}

// prepared returns the series reduced for drawing: stacked series become
// cumulative bands, long series are downsampled.
func (c *chart) prepared() []series {
	out := make([]series, len(c.Series))
	for i, s := range c.Series {
		s.X, s.Y = s.X[:min(len(s.X), len(s.Y))], s.Y[:min(len(s.X), len(s.Y))]
		if c.Stacked {
			s.X, s.Y = bucketMeans(s.X, s.Y, maxPoints)
		} else {
			s.X, s.Y = envelope(s.X, s.Y, maxPoints)
		}
		out[i] = s
	}
	if c.Stacked {
		stack(out)
	}
	return out
}

// stack turns each series into the running total of it and those below.
func stack(ss []series) {
	for i := range ss {
		y := make([]float64, len(ss[i].Y))
		for j, v := range ss[i].Y {
			if !finite(v) {
				v = 0
			}
			if i > 0 && j < len(ss[i-1].Y) {
				v += ss[i-1].Y[j]
			}
			y[j] = v
		}
		ss[i].Y = y
	}
}

// frame picks the y domain (linear from 0, or log) from the drawn values.
func (c *chart) frame(ss []series) *frame {
	f := &frame{x0: marginLeft, x1: chartW - marginRight, y0: marginTop, y1: marginTop + plotH, xMax: c.XMax}
	if !(f.xMax > 0) || math.IsInf(f.xMax, 0) {
		f.xMax = 1
	}
	lo, hi := positiveRange(ss)
	f.log = c.AutoLog && lo > 0 && hi/lo > 100
	if f.log {
		_, f.lo, f.hi = logTicks(lo, hi)
		return f
	}
	_, f.hi = linearTicks(maxFinite(ss), 5)
	return f
}

func (c *chart) yTicks(f *frame) []float64 {
	if f.log {
		t, _, _ := logTicks(f.lo, f.hi)
		return t
	}
	t, _ := linearTicks(f.hi, 5)
	return t
}

// writeBands shades every phase, alternately, labels it above the plot
// (shortened to fit; the full name is the band's tooltip) and marks each
// boundary with a dashed rule.
func (c *chart) writeBands(b *strings.Builder, f *frame) {
	b.WriteString(`<g class="phases">`)
	for i, p := range c.Phases {
		start, end := clamp(p.Start, 0, f.xMax), clamp(p.End, 0, f.xMax)
		if !(end > start) {
			continue
		}
		x0, x1 := f.X(start), f.X(end)
		fill := "#eef1f6"
		if i%2 == 1 {
			fill = "#f8f9fb"
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`,
			x0, f.y0, x1-x0, f.y1-f.y0, fill, esc(phaseTitle(p)))
		if label := fit(p.Name, x1-x0-6); label != "" {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="11" fill="#4a5160" font-weight="600">%s</text>`,
				x0+3, f.y0-8, esc(label))
		}
		if start > 0 {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#8a94a6" stroke-dasharray="3 3"/>`,
				x0, f.y0-4, x0, f.y1)
		}
	}
	b.WriteString(`</g>`)
}

func phaseTitle(p Phase) string {
	return fmt.Sprintf("phase %s: %s to %s", p.Name, formatSeconds(p.Start), formatSeconds(p.End))
}

// writeYAxis draws the horizontal grid, the y tick labels and the unit.
func (c *chart) writeYAxis(b *strings.Builder, f *frame) {
	b.WriteString(`<g class="y-axis" font-size="12" fill="#3b4252">`)
	ticks := c.yTicks(f)
	for i, label := range tickLabels(ticks, f.log) {
		y := f.Y(ticks[i])
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d5dae3" stroke-width="0.8"/>`, f.x0, y, f.x1, y)
		if c.Percent {
			label += "%"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, f.x0-6, y, esc(label))
	}
	unit := c.Unit
	if f.log {
		unit += ", log scale"
	}
	mid := (f.y0 + f.y1) / 2
	fmt.Fprintf(b, `<text transform="translate(14 %.1f) rotate(-90)" text-anchor="middle" font-weight="600">%s</text>`, mid, esc(unit))
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#3b4252"/>`, f.x0, f.y0, f.x0, f.y1)
	b.WriteString(`</g>`)
}

// writeXAxis draws the time axis: ticks at round seconds or minutes.
func writeXAxis(b *strings.Builder, f *frame) {
	b.WriteString(`<g class="x-axis" font-size="12" fill="#3b4252">`)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#3b4252"/>`, f.x0, f.y1, f.x1, f.y1)
	ticks, step := timeTicks(f.xMax, 10)
	for _, t := range ticks {
		x := f.X(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#3b4252"/>`, x, f.y1, x, f.y1+5)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, f.y1+18, esc(formatClock(t, step)))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="600">time since start</text>`,
		(f.x0+f.x1)/2, f.y1+36)
	b.WriteString(`</g>`)
}

// writeSeries draws the lines, or the stacked areas, clipped to the plot.
func (c *chart) writeSeries(b *strings.Builder, f *frame, ss []series) {
	fmt.Fprintf(b, `<g class="series" clip-path="url(#%s-clip)">`, c.ID)
	if !hasFinite(ss, f.log) {
		fmt.Fprintf(b, `<text class="no-data" x="%.1f" y="%.1f" text-anchor="middle" font-size="14" fill="#6b7280">no data</text>`,
			(f.x0+f.x1)/2, (f.y0+f.y1)/2)
	}
	for i, s := range ss {
		if c.Stacked {
			var below []float64
			if i > 0 {
				below = ss[i-1].Y
			}
			writeArea(b, f, s, below)
			continue
		}
		writeLine(b, f, s)
	}
	b.WriteString(`</g>`)
}

// writeLine draws s as a path, broken at gaps; a lone point becomes a dot.
func writeLine(b *strings.Builder, f *frame, s series) {
	drawable := func(v float64) bool { return finite(v) && (!f.log || v > 0) }
	var d strings.Builder
	pen := false
	for i, v := range s.Y {
		if !drawable(v) {
			pen = false
			continue
		}
		x, y := f.X(s.X[i]), f.Y(v)
		switch {
		case pen:
			fmt.Fprintf(&d, "L%.1f %.1f", x, y)
		case i+1 < len(s.Y) && drawable(s.Y[i+1]):
			fmt.Fprintf(&d, "M%.1f %.1f", x, y)
		default: // a lone point: a zero-length segment, drawn as a dot by its round caps
			fmt.Fprintf(&d, "M%.1f %.1fh0.1", x, y)
		}
		pen = true
	}
	if d.Len() == 0 {
		return
	}
	dash := ""
	if s.Dash != "" {
		dash = fmt.Sprintf(` stroke-dasharray="%s"`, esc(s.Dash))
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"%s><title>%s</title></path>`,
		d.String(), esc(s.Color), dash, esc(s.Name))
}

// writeArea fills between s and the series below it (or the axis).
func writeArea(b *strings.Builder, f *frame, s series, below []float64) {
	if len(s.Y) == 0 {
		return
	}
	var d strings.Builder
	for i, v := range s.Y {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f %.1f", cmd, f.X(s.X[i]), f.Y(v))
	}
	for i := len(s.Y) - 1; i >= 0; i-- {
		base := 0.0
		if i < len(below) {
			base = below[i]
		}
		fmt.Fprintf(&d, "L%.1f %.1f", f.X(s.X[i]), f.Y(base))
	}
	fmt.Fprintf(b, `<path d="%sZ" fill="%s" fill-opacity="0.85" stroke="%s" stroke-width="0.8"><title>%s</title></path>`,
		d.String(), esc(s.Color), esc(s.Color), esc(s.Name))
}

// esc escapes text for SVG inside HTML, in content and in quoted attributes.
func esc(s string) string { return html.EscapeString(s) }

// fit shortens s to what fits in width user units, or "" if not even a few
// characters would.
func fit(s string, width float64) string {
	n := int(width / (charW * 11 / fontSize))
	r := []rune(s)
	switch {
	case len(r) <= n:
		return s
	case n < 4:
		return ""
	default:
		return string(r[:n-1]) + "…"
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return math.Max(lo, math.Min(hi, v))
}
