package report

import (
	"fmt"
	"strings"
)

// legend is a chart's key, laid out in rows under the time axis.
type legend struct {
	items []legendItem
	rows  int
}

type legendItem struct {
	x     float64
	row   int
	label string
	color string
	dash  string
	area  bool
}

// maxLegendLabel bounds a legend label, in characters, so one long
// population name cannot push the others off the chart.
const maxLegendLabel = 48

// layoutLegend places one item per series, wrapping to a new row when the
// next would overflow the chart's width.
func layoutLegend(ss []series, area bool) legend {
	var l legend
	x, row := float64(marginLeft), 0
	for _, s := range ss {
		label := fit(s.Name, maxLegendLabel*charW)
		w := 26 + charW*float64(len([]rune(label))) + 18
		if x+w > chartW-marginRight && x > marginLeft {
			x, row = marginLeft, row+1
		}
		l.items = append(l.items, legendItem{x: x, row: row, label: label, color: s.Color, dash: s.Dash, area: area})
		x += w
	}
	if len(ss) > 0 {
		l.rows = row + 1
	}
	return l
}

// write draws the legend with its first row's top at y.
func (l legend) write(b *strings.Builder, y float64) {
	b.WriteString(`<g class="legend" font-size="12" fill="#1f2430">`)
	for _, it := range l.items {
		cy := y + float64(it.row)*legendRow + legendRow/2
		if it.area {
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="20" height="10" fill="%s" fill-opacity="0.85"/>`,
				it.x, cy-5, esc(it.color))
		} else {
			dash := ""
			if it.dash != "" {
				dash = fmt.Sprintf(` stroke-dasharray="%s"`, esc(it.dash))
			}
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"%s/>`,
				it.x, cy, it.x+20, cy, esc(it.color), dash)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`, it.x+26, cy, esc(it.label))
	}
	b.WriteString(`</g>`)
}
