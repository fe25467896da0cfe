package scenario

import (
	"math"
	"strings"

	"github.com/rempart/rempart/internal/siege/report"
)

// Measure returns the threshold's metric as measured in r; ok is false when
// r does not hold it (an unknown population, no origin metrics).
//
// Whole-run viewer metrics cover every population with the viewer role.
// Percentiles across several viewer populations are the worst (highest)
// of theirs, since a report keeps percentiles, not histograms.
func (t Threshold) Measure(r *report.Report) (v float64, ok bool) {
	if t.Pop != "" {
		for i := range r.Pops {
			if r.Pops[i].Name == t.Pop {
				return popMetric(&r.Pops[i], t.Field)
			}
		}
		return 0, false
	}
	return runMetric(r, t.Field)
}

func runMetric(r *report.Report, m string) (float64, bool) {
	if f, ok := strings.CutPrefix(m, AdmissionPrefix); ok {
		return admissionMetric(r.Admission, f)
	}
	var a viewerTotals
	for i := range r.Pops {
		a.add(&r.Pops[i])
	}
	switch m {
	case "stall_free_viewers":
		return ratio(a.stallFree, a.viewers), true
	case "startup_p50_ms":
		return a.startupP50, true
	case "startup_p95_ms":
		return a.startupP95, true
	case "startup_p99_ms":
		return a.startupP99, true
	case "stall_count":
		return float64(a.stalls), true
	case "stall_seconds":
		return a.stallSeconds, true
	case "segment_p99_ms":
		return a.segmentP99, true
	case "viewer_errors":
		return float64(a.errors), true
	case "viewer_held":
		return float64(a.held), true
	case "refused_viewers":
		return float64(a.refused), true
	case "error_ratio":
		return report.ErrorRatio(a.errors, a.requests, a.held), true
	case "attack_requests":
		return float64(a.attackRequests), true
	case "origin_requests":
		// Every request the origin counted during the run; measured when
		// its metrics were read.
		if r.Origin == nil {
			return 0, false
		}
		return r.Origin.Requests, true
	case "origin_requests_per_segment":
		// Measured when the origin's metrics were read and the viewers
		// reported distinct segments (a zero ratio with origin requests
		// means they did not).
		o := r.Origin
		if o == nil || o.RequestsPerSegment == 0 && (o.Requests > 0 || o.SegmentsServed == 0) {
			return 0, false
		}
		return o.RequestsPerSegment, true
	}
	return 0, false
}

// viewerTotals adds up the populations of a report.
type viewerTotals struct {
	viewers, stallFree, stalls, errors, held, requests, attackRequests, refused int64
	stallSeconds                                                                float64
	startupP50, startupP95, startupP99, segmentP99                              float64
}

func (a *viewerTotals) add(p *report.Pop) {
	if p.Role != "viewer" {
		a.attackRequests += p.Requests
		return
	}
	a.errors += p.Errors
	a.held += p.Held
	a.requests += p.Requests - p.Challenged // a solved challenge is neither a success nor a failure
	a.segmentP99 = math.Max(a.segmentP99, p.ByKind["segment"].P99)
	v := p.Viewers
	if v == nil {
		return
	}
	a.viewers += v.Viewers
	a.stallFree += v.StallFree
	a.refused += v.Refused
	a.stalls += v.Stalls
	a.stallSeconds += v.StallSeconds
	a.startupP50 = math.Max(a.startupP50, v.StartupMs.P50)
	a.startupP95 = math.Max(a.startupP95, v.StartupMs.P95)
	a.startupP99 = math.Max(a.startupP99, v.StartupMs.P99)
}

func popMetric(p *report.Pop, field string) (float64, bool) {
	switch field {
	case "requests":
		return float64(p.Requests), true
	case "errors":
		return float64(p.Errors), true
	case "error_ratio":
		return report.ErrorRatio(p.Errors, p.Requests, p.Held+p.Challenged), true
	case "held":
		return float64(p.Held), true
	case "challenged":
		return float64(p.Challenged), true
	case "p99_ms":
		return p.Latency.P99, true
	case "clients":
		return float64(p.Clients), true
	case "stall_free_ratio":
		if p.Viewers == nil {
			return 0, false
		}
		return p.Viewers.StallFreeRatio, true
	case "refused_viewers":
		if p.Viewers == nil {
			return 0, false
		}
		return float64(p.Viewers.Refused), true
	case "refused_after_s":
		// Never refused: not measured, so "<= 5" fails as it should.
		if p.RefusedAfterS == nil {
			return 0, false
		}
		return *p.RefusedAfterS, true
	}
	if code, ok := strings.CutPrefix(field, "status_"); ok {
		return float64(p.Status[code]), true
	}
	return 0, false
}

// ratio is n/d, and 0 when d is 0 (no viewers is not a success).
func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// admissionMetric is one field of the report's admission section. Counts
// are measured whenever the section exists; a ratio, a percentile or the
// FIFO count is not measured when nothing was there to judge (no viewer
// admitted from the queue, no sequence number), so its threshold fails.
func admissionMetric(a *report.Admission, f string) (float64, bool) {
	if a == nil {
		return 0, false
	}
	if v, ok := admissionCount(a, f); ok {
		return float64(v), true
	}
	switch f {
	case "queue_time_p50_s":
		return a.QueueTime.P50, a.QueueTime.Count > 0
	case "queue_time_p95_s":
		return a.QueueTime.P95, a.QueueTime.Count > 0
	case "queue_time_max_s":
		return a.QueueTime.Max, a.QueueTime.Count > 0
	case "fifo_violations":
		return float64(a.FIFO.Violations), a.FIFO.Measured
	case "fifo_viewers":
		return float64(a.FIFO.ViewersInvolved), a.FIFO.Measured
	case "wait_within_30pct":
		return a.WaitAccuracy.WithinRatio, a.WaitAccuracy.Count > 0
	case "wait_error_p50":
		return a.WaitAccuracy.ErrorP50, a.WaitAccuracy.Count > 0
	case "wait_error_p95":
		return a.WaitAccuracy.ErrorP95, a.WaitAccuracy.Count > 0
	case "admitted_stall_free":
		return a.Playback.StallFreeRatio, a.Playback.Viewers > 0
	case "mean_bitrate":
		return a.Playback.MeanBitrate, a.Playback.MeanBitrate > 0
	}
	return 0, false
}

// admissionCount is one of the section's viewer counts.
func admissionCount(a *report.Admission, f string) (int64, bool) {
	switch f {
	case "viewers":
		return a.Viewers, true
	case "admitted":
		return a.AdmittedDirectly + a.AdmittedFromQueue, true
	case "admitted_directly":
		return a.AdmittedDirectly, true
	case "queued":
		return a.Queued, true
	case "admitted_from_queue":
		return a.AdmittedFromQueue, true
	case "still_waiting":
		return a.StillWaiting, true
	case "gave_up":
		return a.GaveUp, true
	case "not_admitted":
		return a.NotAdmitted, true
	case "refused":
		return a.Refused, true
	case "limited":
		return a.Limited, true
	case "requeued":
		return a.Requeued, true
	}
	return 0, false
}
