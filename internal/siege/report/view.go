package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// page is what the HTML template shows: the report, already formatted.
type page struct {
	Scenario  string
	Target    string
	Started   string
	Duration  string
	Stopped   string
	Machine   string
	Phases    []phaseRow
	Pass      bool
	Held      string // "3 of 4 thresholds held"
	Checks    []checkRow
	Pops      []popRow
	HasConns  bool
	Viewers   []viewerRow
	Admission *admissionView
	Origin    *originRow
	Link      string // the link's account in one line; "" without a link
	Plots     []plot
	Notes     []string // what the reader should know about the data itself
	Schema    string
}

type phaseRow struct{ Name, From, To string }

type checkRow struct {
	Expr, Value string
	Pass        bool
}

type popRow struct {
	Name, Role, Model                 string
	Color                             string // the population's color on the plots
	Clients, Requests, Errors, ErrPct string
	Held                              string // waiting-room holds; "" when none
	Bytes, MaxConn                    string
	Status                            []statusCell
	P50, P95, P99, Max                string
	Kinds                             []kindRow
}

type statusCell struct{ Code, Count, Share, Class string }

type kindRow struct{ Kind, Count, P50, P95, P99, Max string }

type viewerRow struct {
	Name, Color                  string
	Viewers, Started, StallFree  string
	StallFreeN                   string
	StartupP50, StartupP95       string
	Stalls, StallTime            string
	Queued, QueuedP50, QueuedP95 string
	Bitrate, Switches, Errors    string
	Refused                      string
}

type originRow struct {
	MetricsURL, Requests, Segments, PerSegment string
}

// newPage formats r for the template.
func newPage(r *Report) *page {
	p := &page{
		Scenario: cmp.Or(r.Scenario, "(unnamed scenario)"),
		Target:   cmp.Or(r.Target, none),
		Started:  formatTime(r.Started),
		Duration: formatSeconds(r.Seconds),
		Stopped:  cmp.Or(r.Stopped, none),
		Machine:  machine(r.Machine),
		Pass:     r.Pass,
		Schema:   cmp.Or(r.Schema, Schema),
		Plots:    plots(r),
	}
	for _, ph := range phasesOf(r) {
		p.Phases = append(p.Phases, phaseRow{ph.Name, formatSeconds(ph.Start), formatSeconds(ph.End)})
	}
	held := 0
	for _, c := range r.Checks {
		p.Checks = append(p.Checks, checkRow{c.Expr, formatNum(c.Value), c.Pass})
		if c.Pass {
			held++
		}
	}
	p.Held = fmt.Sprintf("%d of %d thresholds held", held, len(r.Checks))
	for i, pop := range r.Pops {
		p.Pops = append(p.Pops, newPopRow(i, pop))
		p.HasConns = p.HasConns || pop.MaxConn > 0
		if pop.Viewers != nil {
			p.Viewers = append(p.Viewers, newViewerRow(i, pop))
		}
	}
	p.Origin = newOriginRow(r.Origin)
	p.Link = linkLine(r.Link)
	p.Admission = newAdmissionView(r.Admission)
	p.Notes = notes(r)
	return p
}

func machine(m Machine) string {
	var parts []string
	if m.CPUs > 0 {
		parts = append(parts, fmt.Sprintf("%d CPUs", m.CPUs))
	}
	parts = append(parts, m.OS, m.GoVersion)
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, " · ")
}

func newPopRow(i int, p Pop) popRow {
	row := popRow{
		Name: p.Name, Role: cmp.Or(p.Role, none), Model: cmp.Or(p.Model, none),
		Color:    popColors[i%len(popColors)],
		Clients:  formatInt(p.Clients),
		Requests: formatInt(p.Requests),
		Errors:   formatInt(p.Errors),
		ErrPct:   formatShare(p.Errors, p.Requests-p.Held),
		Bytes:    formatSI(float64(p.Bytes), "B"),
		MaxConn:  none,
		Status:   statusMix(p.Status),
		P50:      formatP(p.Latency, p.Latency.P50),
		P95:      formatP(p.Latency, p.Latency.P95),
		P99:      formatP(p.Latency, p.Latency.P99),
		Max:      formatP(p.Latency, p.Latency.Max),
	}
	if p.MaxConn > 0 {
		row.MaxConn = formatInt(p.MaxConn)
	}
	if p.Held > 0 {
		row.Held = formatInt(p.Held)
	}
	for _, k := range slices.Sorted(maps.Keys(p.ByKind)) {
		l := p.ByKind[k]
		row.Kinds = append(row.Kinds, kindRow{k, formatInt(l.Count),
			formatP(l, l.P50), formatP(l, l.P95), formatP(l, l.P99), formatP(l, l.Max)})
	}
	return row
}

// statusMix lists the statuses, most frequent first.
func statusMix(m map[string]int64) []statusCell {
	var total int64
	for _, n := range m {
		total += n
	}
	codes := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	cells := make([]statusCell, 0, len(codes))
	for _, c := range codes {
		cells = append(cells, statusCell{c, formatInt(m[c]), formatShare(m[c], total), statusClass(c)})
	}
	return cells
}

// statusClass is the CSS class of a status: s2xx, s3xx, s4xx or sfail.
func statusClass(code string) string {
	switch {
	case strings.HasPrefix(code, "2"):
		return "s2xx"
	case strings.HasPrefix(code, "3"):
		return "s3xx"
	case strings.HasPrefix(code, "4"):
		return "s4xx"
	default:
		return "sfail"
	}
}

func newViewerRow(i int, p Pop) viewerRow {
	v := p.Viewers
	return viewerRow{
		Name: p.Name, Color: popColors[i%len(popColors)],
		Viewers:    formatInt(v.Viewers),
		Started:    formatInt(v.Started),
		StallFree:  formatRatio(v.StallFreeRatio),
		StallFreeN: formatInt(v.StallFree),
		StartupP50: formatP(v.StartupMs, v.StartupMs.P50),
		StartupP95: formatP(v.StartupMs, v.StartupMs.P95),
		Stalls:     formatInt(v.Stalls),
		StallTime:  formatSeconds(v.StallSeconds),
		Queued:     formatInt(v.QueuedMs.Count),
		QueuedP50:  formatP(v.QueuedMs, v.QueuedMs.P50),
		QueuedP95:  formatP(v.QueuedMs, v.QueuedMs.P95),
		Bitrate:    formatSI(v.MeanBitrate, "b/s"),
		Switches:   formatInt(v.Switches),
		Errors:     formatInt(v.Errors),
		Refused:    formatInt(v.Refused),
	}
}

// linkLine sums up the shared link: capacity, what it carried, how full.
func linkLine(l *Link) string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("%s shared by the viewers · carried %s, mean %s (%s of capacity), peak %s · full (≥ 95%%) %s · reads delayed %s in all",
		formatSI(l.Mbps*1e6, "b/s"), formatSI(float64(l.Bytes), "B"), formatSI(l.MeanMbps*1e6, "b/s"),
		formatRatio(l.Utilization), formatSI(l.PeakMbps*1e6, "b/s"), formatSeconds(float64(l.FullSeconds)), formatSeconds(l.DelayS))
}

func newOriginRow(o *Origin) *originRow {
	if o == nil {
		return nil
	}
	row := &originRow{
		MetricsURL: cmp.Or(o.MetricsURL, none),
		Requests:   formatNum(o.Requests),
		Segments:   formatInt(o.SegmentsServed),
		PerSegment: none,
	}
	if o.RequestsPerSegment > 0 {
		row.PerSegment = formatNum(o.RequestsPerSegment)
	}
	return row
}

// notes explain data that could mislead: an empty run, a newer schema.
func notes(r *Report) []string {
	var ns []string
	if r.Schema != "" && r.Schema != Schema {
		ns = append(ns, fmt.Sprintf("This report's schema is %q; this page was written for %q, so some fields may be missing.", r.Schema, Schema))
	}
	if !(r.Seconds > 0) && len(r.Series) == 0 {
		ns = append(ns, "The run lasted no time: nothing was measured, and the plots are empty.")
	} else if len(r.Series) == 0 {
		ns = append(ns, "The report has no per-second series: the plots are empty.")
	}
	if len(r.Pops) == 0 {
		ns = append(ns, "The scenario had no populations.")
	}
	return ns
}
