package runner

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rempart/rempart/internal/siege/report"
)

// WriteSummary writes a one-screen account of rep: one row per population,
// the viewers' experience, the origin's figures and every threshold.
func WriteSummary(w io.Writer, rep *report.Report) error {
	fmt.Fprintf(w, "siege %s → %s: %.1fs, %s\n\n", rep.Scenario, rep.Target, rep.Seconds, rep.Stopped)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "population\tmodel\tclients\trequests\theld\terrors\terror %\tp50 ms\tp99 ms\tstatus\t")
	for _, p := range rep.Pops {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t%s\t\n", p.Name, p.Model, p.Clients, p.Requests,
			p.Held, p.Errors, 100*report.ErrorRatio(p.Errors, p.Requests, p.Held+p.Challenged), p.Latency.P50, p.Latency.P99, statusLine(p.Status))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, p := range rep.Pops {
		if v := p.Viewers; v != nil {
			fmt.Fprintf(w, "%s: %d viewers, %d started, %d stall-free (%.1f%%), %d refused; startup p50/p95/p99 %.0f/%.0f/%.0f ms; "+
				"queued p95 %.0f ms; %d stalls (%.1f s)\n", p.Name, v.Viewers, v.Started, v.StallFree, 100*v.StallFreeRatio, v.Refused,
				v.StartupMs.P50, v.StartupMs.P95, v.StartupMs.P99, v.QueuedMs.P95, v.Stalls, v.StallSeconds)
		}
	}
	for _, p := range rep.Pops {
		if p.Challenged > 0 {
			fmt.Fprintf(w, "%s: %d proof-of-work challenges met and solved as a browser's page does (not counted as refusals)\n",
				p.Name, p.Challenged)
		}
	}
	for _, p := range rep.Pops {
		if p.RefusedAfterS != nil {
			fmt.Fprintf(w, "%s: first refused (403/429/503) %.1f s after its first answer\n", p.Name, *p.RefusedAfterS)
		}
	}
	writeLink(w, rep.Link)
	writeAdmission(w, rep.Admission)
	if o := rep.Origin; o != nil {
		fmt.Fprintf(w, "origin: %.0f requests (%.0f for segments), %d segment responses to viewers, %.2f origin requests per distinct segment\n",
			o.Requests, o.SegmentRequests, o.SegmentsServed, o.RequestsPerSegment)
	}
	fmt.Fprintln(w, "\nthresholds:")
	for _, c := range rep.Checks {
		verdict := "PASS"
		if !c.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-40s measured %g\n", verdict, c.Expr, c.Value)
	}
	if len(rep.Checks) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	_, err := fmt.Fprintln(w)
	return err
}

// statusLine lists the status counts, most frequent first, at most five.
func statusLine(m map[string]int64) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), strings.Compare(a, b))
	})
	var parts []string
	for i, k := range keys {
		if i == 5 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// writeLink writes the link's account in one line.
func writeLink(w io.Writer, l *report.Link) {
	if l == nil {
		return
	}
	fmt.Fprintf(w, "link: %g Mbit/s shared by the viewers: carried %.1f MB, mean %.1f Mbit/s (%.0f%% of capacity), peak %.1f Mbit/s, "+
		"%d s at ≥ %.0f%%; viewers' reads waited %.1f s on it in all\n", l.Mbps, float64(l.Bytes)/1e6, l.MeanMbps,
		100*l.Utilization, l.PeakMbps, l.FullSeconds, 100*fullShare, l.DelayS)
}

// writeAdmission writes the admission section in three lines.
func writeAdmission(w io.Writer, a *report.Admission) {
	if a == nil {
		return
	}
	fmt.Fprintf(w, "admission: %d viewers: %d admitted directly, %d queued → %d admitted from the queue, %d still waiting, %d gave up "+
		"(%d never admitted, %d refused, %d rate-limited, %d queued again)\n", a.Viewers, a.AdmittedDirectly, a.Queued,
		a.AdmittedFromQueue, a.StillWaiting, a.GaveUp, a.NotAdmitted, a.Refused, a.Limited, a.Requeued)
	fifo := "not measured (no X-Rempart-Admitted)"
	if a.FIFO.Measured {
		fifo = fmt.Sprintf("%d (%d viewers involved, %d sequenced)", a.FIFO.Violations, a.FIFO.ViewersInvolved, a.FIFO.Sequenced)
	}
	wa := a.WaitAccuracy
	fmt.Fprintf(w, "  queue time p50/p95/max %.1f/%.1f/%.1f s; FIFO violations %s; displayed wait within 30%%: %.1f%% of %d (error p50 %.0f%%, p95 %.0f%%)\n",
		a.QueueTime.P50, a.QueueTime.P95, a.QueueTime.Max, fifo, 100*wa.WithinRatio, wa.Count, 100*wa.ErrorP50, 100*wa.ErrorP95)
	pb := a.Playback
	fmt.Fprintf(w, "  admitted: %d judged, %d stall-free (%.1f%%), %d cut by the end before their first picture; mean bitrate %.2f Mb/s%s\n",
		pb.Viewers, pb.StallFree, 100*pb.StallFreeRatio, pb.UnstartedAtEnd, pb.MeanBitrate/1e6, renditionLine(a.Renditions))
}

// renditionLine lists the share of played time per rendition.
func renditionLine(rs []report.RenditionShare) string {
	if len(rs) == 0 {
		return ""
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", r.Rendition, 100*r.Share))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
