package main

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/rempart/rempart/internal/siege/report"
)

// Row is what one report says, reduced to the scoreboard's columns.
type Row struct {
	StallFree    float64 // viewers who started and never stalled ÷ viewers, all viewer populations
	Viewers      int64
	Refused      int64   // viewers refused at least once, all viewer populations
	StartupP95   float64 // ms, worst viewer population
	SegmentP99   float64 // ms, viewers' segment requests, worst population
	PerSegment   float64 // origin segment requests ÷ distinct segments viewers got
	Origin       float64 // origin requests during the run, every object
	OriginRate   float64 // origin requests/s during the attack phases
	HasOrigin    bool    // the origin's metrics were read
	Attack       int64   // requests (or connections) attacker populations sent
	AttackStatus map[string]int64
	Pass         bool
	Failed       []string // thresholds that did not hold, with their value
	Stopped      string   // "completed" unless cut short
}

// reduce computes a Row from a report.
func reduce(r *report.Report) Row {
	row := Row{Pass: r.Pass, Stopped: r.Stopped, AttackStatus: map[string]int64{}}
	var started, free int64
	for _, p := range r.Pops {
		switch {
		case p.Role == "attacker":
			row.Attack += p.Requests
			for code, n := range p.Status {
				row.AttackStatus[code] += n
			}
		case p.Viewers != nil:
			started += p.Viewers.Viewers
			free += p.Viewers.StallFree
			row.Refused += p.Viewers.Refused
			row.StartupP95 = max(row.StartupP95, p.Viewers.StartupMs.P95)
			row.SegmentP99 = max(row.SegmentP99, p.ByKind["segment"].P99)
		}
	}
	row.Viewers = started
	if started > 0 {
		row.StallFree = float64(free) / float64(started)
	}
	if o := r.Origin; o != nil {
		row.HasOrigin, row.Origin, row.PerSegment = true, o.Requests, o.RequestsPerSegment
		row.OriginRate = attackRate(r)
	}
	for _, c := range r.Checks {
		if !c.Pass {
			row.Failed = append(row.Failed, c.Expr+" (was "+strconv.FormatFloat(c.Value, 'g', 4, 64)+")")
		}
	}
	return row
}

// attackRate is the origin's mean request rate over the seconds of every
// phase but the first: the built-in scenarios' first phase ("before") is
// the crowd alone, the attack runs through the others.
func attackRate(r *report.Report) float64 {
	if len(r.Phases) == 0 {
		return 0
	}
	first := r.Phases[0].Name
	var sum float64
	var n int
	for _, s := range r.Series {
		if s.Phase != first && s.OriginRequests != nil {
			sum += *s.OriginRequests
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// statusBucket folds a status key into the scoreboard's categories.
func statusBucket(code string) string {
	switch code {
	case "429", "403", "503", "400", "error", "canceled", "skipped":
		return code
	}
	n, err := strconv.Atoi(code)
	switch {
	case err != nil:
		return code
	case n < 300:
		return "2xx"
	case n < 400:
		return "3xx"
	case n < 500:
		return "4xx"
	default:
		return "5xx"
	}
}

// share is one status category's part of the attackers' outcomes.
type share struct {
	bucket string
	n      int64
}

// statusMix returns the attackers' outcomes by category, largest first.
func statusMix(status map[string]int64) (mix []share, total int64) {
	by := map[string]int64{}
	for code, n := range status {
		by[statusBucket(code)] += n
		total += n
	}
	for b, n := range by {
		if n > 0 {
			mix = append(mix, share{b, n})
		}
	}
	slices.SortFunc(mix, func(a, b share) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.bucket, b.bucket))
	})
	return mix, total
}
