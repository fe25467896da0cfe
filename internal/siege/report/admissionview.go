package report

import (
	"fmt"
	"math"
	"strings"
)

// admissionView is the page's admission section, formatted: counts of
// viewers on the left of the table, verdicts on the right.
type admissionView struct {
	Rows       []admissionRow
	Renditions string // "/live/240p/index.m3u8 (408 kb/s) 20.00% · …", or none
}

type admissionRow struct{ Count, Verdict admissionCell }

// admissionCell is one labelled figure of the admission table; a zero
// cell is drawn empty.
type admissionCell struct {
	Label, Value, Note string
}

func newAdmissionView(a *Admission) *admissionView {
	if a == nil {
		return nil
	}
	counts := []admissionCell{
		{"Viewers", formatInt(a.Viewers), "sent a request"},
		{"Admitted directly", formatInt(a.AdmittedDirectly), "without waiting"},
		{"Queued", formatInt(a.Queued), "given a ticket"},
		{"Admitted from the queue", formatInt(a.AdmittedFromQueue), formatShare(a.AdmittedFromQueue, a.Queued) + " of the queued"},
		{"Still waiting", formatInt(a.StillWaiting), "when the run ended"},
		{"Gave up", formatInt(a.GaveUp), "left the queue unadmitted"},
		{"Never admitted", formatInt(a.NotAdmitted), fmt.Sprintf("%s refused, %s rate-limited, %s queued again",
			formatInt(a.Refused), formatInt(a.Limited), formatInt(a.Requeued))},
	}
	q, w, pb := a.QueueTime, a.WaitAccuracy, a.Playback
	verdicts := []admissionCell{
		{"FIFO violations", fifoValue(a.FIFO), fifoNote(a.FIFO)},
		{"Queue time p50 / p95 / max", spreadValue(q), formatInt(q.Count) + " viewers admitted from the queue"},
		{"Displayed wait within 30 %", shareValue(w.WithinRatio, w.Count), fmt.Sprintf("of %s; error p50 %s, p95 %s",
			formatInt(w.Count), percentValue(w.ErrorP50, w.Count), percentValue(w.ErrorP95, w.Count))},
		{"Admitted viewers stall-free", shareValue(pb.StallFreeRatio, pb.Viewers), fmt.Sprintf("%s of %s; %s cut by the end before a picture",
			formatInt(pb.StallFree), formatInt(pb.Viewers), formatInt(pb.UnstartedAtEnd))},
		{"Mean bitrate received", bitrateValue(pb.MeanBitrate), "admitted viewers, weighted by time played"},
	}
	v := &admissionView{Renditions: renditionShares(a.Renditions)}
	for i := range max(len(counts), len(verdicts)) {
		var row admissionRow
		if i < len(counts) {
			row.Count = counts[i]
		}
		if i < len(verdicts) {
			row.Verdict = verdicts[i]
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

func fifoValue(f FIFO) string {
	if !f.Measured {
		return none
	}
	return formatInt(f.Violations)
}

func fifoNote(f FIFO) string {
	if !f.Measured {
		return "not measured: no admitted viewer was told X-Rempart-Admitted"
	}
	return fmt.Sprintf("pairs; %s viewers involved, %s sequenced", formatInt(f.ViewersInvolved), formatInt(f.Sequenced))
}

func spreadValue(s Spread) string {
	if s.Count == 0 {
		return none
	}
	return formatSeconds(s.P50) + " / " + formatSeconds(s.P95) + " / " + formatSeconds(s.Max)
}

// shareValue is ratio as a percentage, or none when nothing was judged.
func shareValue(ratio float64, n int64) string {
	if n == 0 {
		return none
	}
	return formatRatio(ratio)
}

func percentValue(ratio float64, n int64) string {
	if n == 0 || !finite(ratio) {
		return none
	}
	return formatNum(roundSig(100*ratio, 3)) + "%"
}

func bitrateValue(bps float64) string {
	if !(bps > 0) || math.IsInf(bps, 0) {
		return none
	}
	return formatSI(bps, "b/s")
}

func renditionShares(rs []RenditionShare) string {
	if len(rs) == 0 {
		return none
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s (%s) %s", r.Rendition, formatSI(r.Bandwidth, "b/s"), formatRatio(r.Share)))
	}
	return strings.Join(parts, " · ")
}
